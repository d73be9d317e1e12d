/**
 * The API's request and response types, derived from the manager's TypeBox schemas (the one
 * contract of the HTTP boundary). Nothing here is redefined by hand.
 */
import type { Static } from '@sinclair/typebox';
import type * as S from '../manager/api/schemas.js';
import type * as Shaman from '../manager/api/shaman-schemas.js';

export type ErrorBody = Static<typeof S.ErrorBody>;
export type Version = Static<typeof S.Version>;

export type JobTypeSummary = Static<typeof S.JobTypeSummary>;
export type JobTypeDetail = Static<typeof S.JobTypeDetail>;
export type JobTypeList = Static<typeof S.JobTypeList>;

export type SubmitJob = Static<typeof S.SubmitJob>;
export type Job = Static<typeof S.Job>;
export type JobCheckResult = Static<typeof S.JobCheckResult>;
export type JobListQuery = Static<typeof S.JobListQuery>;
export type JobList = Static<typeof S.JobList>;
export type JobAction = Static<typeof S.JobAction>;
export type SetJobStatus = Static<typeof S.SetJobStatus>;
export type Blocklist = Static<typeof S.Blocklist>;
export type BlocklistEntry = Static<typeof S.BlocklistEntry>;

export type Task = Static<typeof S.Task>;
export type TaskList = Static<typeof S.TaskList>;
export type TaskAction = Static<typeof S.TaskAction>['action'];
export type LogTail = Static<typeof S.LogTail>;

export type Worker = Static<typeof S.Worker>;
export type WorkerList = Static<typeof S.WorkerList>;
export type WorkerControl = Static<typeof S.WorkerControl>;
export type WorkerTags = Static<typeof S.WorkerTags>;
export type SleepSchedule = Static<typeof S.SleepScheduleSchema>;
export type WorkerStatus = Static<typeof S.WorkerStatusSchema>;
export type Platform = Static<typeof S.Platform>;

export type RegisterWorker = Static<typeof S.RegisterWorker>;
export type RegisteredWorker = Static<typeof S.RegisteredWorker>;
export type SignOn = Static<typeof S.SignOn>;
export type WorkerStateAnswer = Static<typeof S.WorkerStateAnswer>;
export type AssignedTask = Static<typeof S.AssignedTask>;
export type TaskUpdate = Static<typeof S.TaskUpdate>;
export type MayKeepRunning = Static<typeof S.MayKeepRunning>;

export type StorageInfo = Static<typeof Shaman.StorageInfo>;
export type ShamanFile = Static<typeof Shaman.ShamanFile>;
export type ShamanMissing = Static<typeof Shaman.ShamanMissing>;
export type BlobStatus = Static<typeof Shaman.BlobStatus>;
export type UploadResult = Static<typeof Shaman.UploadResult>;
export type CheckoutResult = Static<typeof Shaman.CheckoutResult>;
export type GcRequest = Static<typeof Shaman.GcRequest>;
export type GcReport = Static<typeof Shaman.GcReport>;
