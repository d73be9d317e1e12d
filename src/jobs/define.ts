import type { Static, TObject } from '@sinclair/typebox';
import { parseSettings } from './settings.js';
import type { CompiledTask, JobToCompile, JobType } from './types.js';

/** A job type whose `compile` and `checkSettings` see settings typed by its schema. */
export interface JobTypeDefinition<S extends TObject> {
  name: string;
  label: string;
  description: string;
  settingsSchema: S;
  checkSettings?(settings: Static<S>): void;
  compile(job: JobToCompile<Static<S>>): CompiledTask[];
}

/**
 * Makes a JobType from a typed definition. The returned `compile` validates and defaults the
 * settings itself, so the typed settings the definition sees are true whoever calls it.
 */
export function defineJobType<S extends TObject>(definition: JobTypeDefinition<S>): JobType {
  const jobType: JobType = {
    name: definition.name,
    label: definition.label,
    description: definition.description,
    settingsSchema: definition.settingsSchema,
    checkSettings: definition.checkSettings as JobType['checkSettings'],
    compile(job) {
      const settings = parseSettings(jobType, job.settings) as Static<S>;
      return definition.compile({ ...job, settings });
    },
  };
  return Object.freeze(jobType);
}
