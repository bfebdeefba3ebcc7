export { startBoard, type RunningBoard } from './start-board.ts';
export { buildBoard, maskJobData, type BuildBoardOptions } from './board-server.ts';
export { assertCanStart } from './assert-can-start.ts';
export type { LoginLimits } from './guards/login-limiter.ts';
