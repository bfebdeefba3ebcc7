import { loadDotEnv, runRolesMain } from '@evergreen/runtime';

loadDotEnv();
await runRolesMain(['api']);
