import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { etag, renderJobType } from '../../jobs/index.js';
import { useFileFarm, type TestManager } from '../../testing/farm.js';

let m: TestManager;
useFileFarm({ before, after }, {}, (farm) => ({ manager: m } = farm));

describe('GET /api/v1/job-types', () => {
  it('lists every job type with its label, description and etag', async () => {
    const list = await m.api('GET', '/job-types');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.jobTypes.map((type: { name: string }) => type.name),
      ['render', 'frames-to-video', 'transcode', 'command', 'echo-sleep'],
    );
    const render = list.body.jobTypes[0];
    assert.deepEqual(Object.keys(render).sort(), ['description', 'etag', 'label', 'name']);
    assert.equal(render.label, 'Render');
    assert.match(render.description, /Blender/);
    assert.equal(render.etag, etag(renderJobType));
  });

  it('describes each setting of a type from its schema, with the renderer it applies to', async () => {
    const response = await m.api('GET', '/job-types/render');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('etag'), `"${etag(renderJobType)}"`);
    const settings = new Map<string, any>(
      response.body.settings.map((setting: { name: string }) => [setting.name, setting]),
    );
    assert.deepEqual(
      [...settings.keys()],
      ['renderer', 'blendFile', 'output', 'width', 'height', 'fps', 'video', 'scene'],
    );
    const blendFile = settings.get('blendFile');
    assert.equal(blendFile.type, 'string');
    assert.equal(blendFile.required, false);
    assert.deepEqual(blendFile.requiredWhen, { renderer: ['blender'] });
    assert.deepEqual(blendFile.appliesWhen, { renderer: ['blender'] });
    assert.match(blendFile.description, /Blender/);
    assert.deepEqual(settings.get('renderer').allowed, ['builtin', 'blender']);
    assert.equal(settings.get('renderer').default, 'builtin');
    assert.deepEqual(
      [
        settings.get('width').type,
        settings.get('width').default,
        settings.get('width').minimum,
        settings.get('width').maximum,
      ],
      ['integer', 1280, 1, 16384],
    );
    assert.deepEqual(settings.get('width').appliesWhen, { renderer: ['builtin'] });
    assert.equal(settings.get('output').required, true);
    assert.equal(settings.get('fps').appliesWhen, undefined, 'fps applies to every renderer');
    // The raw schema is there too, for clients that validate before submitting.
    assert.deepEqual(response.body.settingsSchema.properties.blendFile.appliesWhen, { renderer: ['blender'] });
  });

  it("an unknown type is a 404 in Kiln's error shape", async () => {
    const response = await m.api('GET', '/job-types/maya');
    assert.equal(response.status, 404);
    assert.deepEqual(response.body, {
      error: { code: 'unknown_job_type', message: 'unknown job type "maya"', field: 'name' },
    });
  });

  it('the OpenAPI document describes both routes and the setting fields', async () => {
    const doc = (await m.api('GET', '/openapi.json')).body;
    assert.ok(doc.paths['/api/v1/job-types'].get);
    const detail = doc.paths['/api/v1/job-types/{name}'].get;
    assert.ok(detail.responses['404']);
    const schema = detail.responses['200'].content['application/json'].schema;
    const setting = schema.properties.settings.items;
    for (const field of [
      'name',
      'type',
      'description',
      'required',
      'appliesWhen',
      'requiredWhen',
      'default',
      'allowed',
      'minimum',
      'maximum',
    ]) {
      assert.ok(setting.properties[field], `settings[].${field} is documented`);
    }
  });
});

describe('a submitted setting the chosen renderer ignores', () => {
  const submit = (settings: Record<string, unknown>) =>
    m.api('POST', '/jobs', {
      name: 'r',
      type: 'render',
      frames: '1-2',
      settings: { output: '/tmp/kiln-never', ...settings },
    });

  it('is refused with 400 naming the field and the renderer', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [
        { blendFile: '/shots/a.blend' },
        'settings.blendFile',
        /settings\.blendFile does not apply when settings\.renderer is builtin \(the default\); it applies only when settings\.renderer is blender/,
      ],
      [
        { renderer: 'builtin', blendFile: '/shots/a.blend' },
        'settings.blendFile',
        /does not apply when settings\.renderer is builtin;/,
      ],
      [
        { renderer: 'blender', blendFile: '/shots/a.blend', width: 640 },
        'settings.width',
        /settings\.width does not apply when settings\.renderer is blender/,
      ],
      [
        { renderer: 'blender' },
        'settings.blendFile',
        /settings\.blendFile is required when settings\.renderer is blender/,
      ],
    ];
    for (const [settings, field, message] of cases) {
      const response = await submit(settings);
      assert.equal(response.status, 400, JSON.stringify(response.body));
      assert.equal(response.body.error.code, 'invalid_settings');
      assert.equal(response.body.error.field, field);
      assert.match(response.body.error.message, message);
    }
    assert.equal((await m.api('GET', '/jobs')).body.total, 0, 'nothing stored');
  });

  it("a Blender job is stored without the built-in renderer's width and height", async () => {
    const response = await submit({ renderer: 'blender', blendFile: '/shots/a.blend' });
    assert.equal(response.status, 201, JSON.stringify(response.body));
    assert.deepEqual(response.body.settings, {
      output: '/tmp/kiln-never',
      renderer: 'blender',
      blendFile: '/shots/a.blend',
      fps: 24,
      video: true,
    });
    assert.equal((await m.api('DELETE', `/jobs/${response.body.id}`)).status < 300, true);
  });
});
