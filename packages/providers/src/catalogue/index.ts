import type { ProviderEntry } from '@evergreen/core';
import { ACCOUNTING } from './accounting.ts';
import { COMMERCE } from './commerce.ts';
import { COMMUNICATION } from './communication.ts';
import { CRM } from './crm.ts';
import { DEVELOPER } from './developer.ts';
import { HEALTH } from './health.ts';
import { HR } from './hr.ts';
import { IDENTITY } from './identity.ts';
import { MARKETING } from './marketing.ts';
import { PRODUCTIVITY } from './productivity.ts';
import { SOCIAL } from './social.ts';
import { STORAGE } from './storage.ts';
import { SUPPORT } from './support.ts';

/** One category of the catalogue: the file its providers live in, and the heading docs/providers.md gives them. */
export interface CatalogueSection {
  category: string;
  title: string;
  providers: readonly ProviderEntry[];
}

/** The named providers, by category, in the order docs/providers.md lists them. */
export const CATALOGUE: readonly CatalogueSection[] = [
  { category: 'identity', title: 'Identity platforms', providers: IDENTITY },
  { category: 'crm', title: 'CRM and sales', providers: CRM },
  { category: 'support', title: 'Support and IT service management', providers: SUPPORT },
  { category: 'accounting', title: 'Accounting and ERP', providers: ACCOUNTING },
  { category: 'productivity', title: 'Productivity, scheduling and e-signature', providers: PRODUCTIVITY },
  { category: 'storage', title: 'File storage', providers: STORAGE },
  { category: 'communication', title: 'Chat, meetings and telephony', providers: COMMUNICATION },
  { category: 'developer', title: 'Developer tools and cloud', providers: DEVELOPER },
  { category: 'social', title: 'Social and media', providers: SOCIAL },
  { category: 'commerce', title: 'Commerce and payments', providers: COMMERCE },
  { category: 'marketing', title: 'Marketing', providers: MARKETING },
  { category: 'hr', title: 'HR and payroll', providers: HR },
  { category: 'health', title: 'Health and fitness', providers: HEALTH },
];
