// Value filters for obs/var queries (tiledbsoma `value_filter` grammar): parse once, evaluate to a row mask.
export { parseValueFilter, filterColumns, type FilterAst, type FilterNode, type FilterLiteral, type CompareOp, type ColumnRef } from './filter-parse';
export { evaluateFilter, selectedRows, compareCodePoints, type FilterTable } from './filter-eval';
