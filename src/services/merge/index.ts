// Merging duplicate customers (SPEC §8, issue 20), the folder's only door: the merge (merge.ts), its undo
// (merge-undo.ts), which values the target takes (merge-fill.ts), the records that move (merge-move.ts) and
// the hand-over of the sources to the trash (merge-sources.ts).
export { getMerge, mergeCustomers } from './merge';
export { undoMerge } from './merge-undo';
