// The view's columns and mapping are the store's: one definition of what may be shown of a connection.
export { VIEW_COLUMNS, toView as rowToView, type ViewRow } from '@evergreen/store';
