import { ALL_ROLES, loadDotEnv, runRolesMain } from '@evergreen/runtime';

loadDotEnv();
await runRolesMain(ALL_ROLES);
