export { BUILTIN_PROVIDERS } from './builtins.ts';
export { CATALOGUE, type CatalogueSection } from './catalogue/index.ts';
export { renderCatalogue, replaceGenerated, DOC_BEGIN, DOC_END } from './catalogue-doc.ts';
