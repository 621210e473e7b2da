// The customer import/export capability. This file is its only door: controllers and server.ts import from
// here, never from the files beside it.
export { exportStreams } from './export';
export { failStaleJobs, failStaleReverts, getJob, importUpload, startStaleJobSweeper } from './job';
export { revertJob } from './revert-job';
export { openUpload } from './upload';
