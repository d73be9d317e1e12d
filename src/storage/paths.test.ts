import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { UserError } from '../util/errors.js';
import { findCloudSyncMarker, assertNotCloudSynced } from './cloud-sync.js';
import {
  assertNotUncPath,
  checkVariables,
  isUncPath,
  toPlatformPath,
  toStoredPath,
  type TwoWayVariable,
} from './paths.js';
import { makeTempDir } from './testing.js';

const farm: TwoWayVariable = {
  name: 'farm',
  values: [
    { platform: 'linux', audience: 'all', value: '/mnt/farm' },
    { platform: 'darwin', audience: 'all', value: '/Volumes/farm' },
    { platform: 'windows', audience: 'all', value: 'S:\\' },
  ],
};
const render: TwoWayVariable = {
  name: 'renders',
  values: [
    { platform: 'linux', audience: 'all', value: '/mnt/farm/renders/' },
    { platform: 'windows', audience: 'workers', value: 'R:' },
    { platform: 'windows', audience: 'users', value: 'T:\\renders' },
  ],
};
const variables = [farm, render];

describe('two-way variables', () => {
  test('stores a windows path with the variable, whatever the case and separators', () => {
    assert.equal(toStoredPath('S:\\proj\\a.blend', 'windows', variables), '{farm}/proj/a.blend');
    assert.equal(toStoredPath('s:/proj\\a.blend', 'windows', variables), '{farm}/proj/a.blend');
    assert.equal(toStoredPath('S:', 'windows', variables), '{farm}');
  });

  test('round trips between linux, darwin and windows', () => {
    const stored = toStoredPath('/mnt/farm/proj/shot 1/a.blend', 'linux', variables);
    assert.equal(stored, '{farm}/proj/shot 1/a.blend');
    assert.equal(toPlatformPath(stored, 'windows', 'workers', variables), 'S:\\proj\\shot 1\\a.blend');
    assert.equal(toPlatformPath(stored, 'darwin', 'users', variables), '/Volumes/farm/proj/shot 1/a.blend');
    assert.equal(toPlatformPath(stored, 'linux', 'workers', variables), '/mnt/farm/proj/shot 1/a.blend');
    for (const [platform, path] of [
      ['linux', '/mnt/farm/x/y.exr'],
      ['darwin', '/Volumes/farm/x/y.exr'],
      ['windows', 'S:\\x\\y.exr'],
    ] as const) {
      const back = toPlatformPath(toStoredPath(path, platform, variables), platform, 'users', variables);
      assert.equal(back, path, platform);
    }
    assert.equal(toPlatformPath('{farm}', 'windows', 'workers', variables), 'S:\\');
  });

  test('the longest prefix wins and audiences pick their own value', () => {
    assert.equal(toStoredPath('/mnt/farm/renders/out.png', 'linux', variables), '{renders}/out.png');
    assert.equal(toStoredPath('T:\\Renders\\out.png', 'windows', variables), '{renders}/out.png');
    assert.equal(toStoredPath('T:\\Renders\\out.png', 'windows', variables, 'workers'), 'T:/Renders/out.png');
    assert.equal(toPlatformPath('{renders}/out.png', 'windows', 'workers', variables), 'R:\\out.png');
    assert.equal(toPlatformPath('{renders}/out.png', 'windows', 'users', variables), 'T:\\renders\\out.png');
  });

  test('matches whole names only and leaves unknown paths and variables alone', () => {
    assert.equal(toStoredPath('/mnt/farmer/a', 'linux', variables), '/mnt/farmer/a');
    assert.equal(toStoredPath('/MNT/farm/a', 'linux', variables), '/MNT/farm/a');
    assert.equal(toStoredPath('C:\\local\\a.blend', 'windows', variables), 'C:/local/a.blend');
    assert.equal(toPlatformPath('{nope}/a', 'linux', 'workers', variables), '{nope}/a');
    assert.equal(toPlatformPath('{renders}/a', 'darwin', 'workers', variables), '{renders}/a');
  });

  test('a value for `all` platforms is used when there is no specific one', () => {
    const any: TwoWayVariable = { name: 'proj', values: [{ platform: 'all', audience: 'all', value: '/projects' }] };
    assert.equal(toPlatformPath('{proj}/a', 'darwin', 'workers', [any]), '/projects/a');
    assert.equal(toStoredPath('/projects/a', 'linux', [any]), '{proj}/a');
  });

  test('checkVariables refuses duplicates and UNC values', () => {
    assert.throws(() => checkVariables([farm, farm]), UserError);
    const unc: TwoWayVariable = {
      name: 'x',
      values: [{ platform: 'windows', audience: 'all', value: '\\\\nas\\farm' }],
    };
    assert.throws(
      () => checkVariables([unc]),
      (error: UserError) => error.code === 'unc_path' && error.field === 'variables[0].values[0].value',
    );
    checkVariables(variables);
  });
});

describe('UNC paths', () => {
  test('are detected in both separator styles', () => {
    assert.equal(isUncPath('\\\\server\\share\\a.blend'), true);
    assert.equal(isUncPath('//server/share/a.blend'), true);
    assert.equal(isUncPath('\\\\?\\UNC\\server\\share'), true);
    assert.equal(isUncPath('\\\\?\\C:\\proj'), false);
    assert.equal(isUncPath('S:\\proj'), false);
    assert.equal(isUncPath('/mnt/farm'), false);
    assert.equal(isUncPath('\\proj'), false);
  });

  test('are refused with a message to map a drive letter', () => {
    assert.throws(
      () => assertNotUncPath('\\\\nas\\farm\\proj', 'input'),
      (error: unknown) =>
        error instanceof UserError &&
        error.code === 'unc_path' &&
        error.field === 'input' &&
        /map a drive letter/.test(error.message) &&
        error.message.includes('\\\\nas\\farm'),
    );
    assertNotUncPath('S:\\proj');
  });
});

describe('cloud-synced folders', () => {
  test('each marker entry is found from a folder below it', async (t) => {
    const base = await makeTempDir(t);
    const cases: Array<[string, string]> = [
      ['.dropbox', 'dropbox'],
      ['.dropbox.cache', 'dropbox'],
      ['.849C9593-D756-4E56-8D6E-42412F2A707B', 'onedrive'],
      ['.tmp.drivedownload', 'google-drive'],
      ['.tmp.driveupload', 'google-drive'],
      ['.stfolder', 'syncthing'],
      ['.stversions', 'syncthing'],
    ];
    for (const [marker, service] of cases) {
      const root = join(base, `root-${marker}`);
      await mkdir(join(root, marker), { recursive: true });
      const deep = join(root, 'proj', 'shots');
      await mkdir(deep, { recursive: true });
      assert.deepEqual(await findCloudSyncMarker(deep), { service, marker: join(root, marker) }, marker);
    }
    // A marker that is a file counts too (Dropbox writes .dropbox as a file).
    await mkdir(join(base, 'file-marker'));
    await writeFile(join(base, 'file-marker', '.dropbox'), '{}');
    assert.equal((await findCloudSyncMarker(join(base, 'file-marker', 'not', 'created')))?.service, 'dropbox');
  });

  test('folder names of the services are recognised by name alone', async () => {
    const cases: Array<[string, string, string]> = [
      ['/home/ann/OneDrive/farm', 'onedrive', '/home/ann/OneDrive'],
      ['/home/ann/OneDrive - Contoso Ltd/farm', 'onedrive', '/home/ann/OneDrive - Contoso Ltd'],
      [
        '/Users/ann/Library/CloudStorage/OneDrive-Personal/farm',
        'onedrive',
        '/Users/ann/Library/CloudStorage/OneDrive-Personal',
      ],
      ['/Volumes/GoogleDrive/My Drive/farm', 'google-drive', '/Volumes/GoogleDrive/My Drive'],
      [
        '/Users/ann/Library/CloudStorage/GoogleDrive-ann@example.com/Shared drives/x',
        'google-drive',
        '/Users/ann/Library/CloudStorage/GoogleDrive-ann@example.com',
      ],
      [
        '/Users/ann/Library/Mobile Documents/com~apple~CloudDocs/farm',
        'icloud',
        '/Users/ann/Library/Mobile Documents/com~apple~CloudDocs',
      ],
      ['/Users/ann/Library/Mobile Documents/iCloud~com~x/farm', 'icloud', '/Users/ann/Library/Mobile Documents'],
      ['/Users/ann/Library/CloudStorage/Dropbox/farm', 'dropbox', '/Users/ann/Library/CloudStorage/Dropbox'],
    ];
    for (const [path, service, marker] of cases) {
      assert.deepEqual(await findCloudSyncMarker(path), { service, marker }, path);
    }
  });

  test('an ordinary folder has no marker, and a symlink into a synced folder is followed', async (t) => {
    const base = await makeTempDir(t);
    await mkdir(join(base, 'plain', 'farm'), { recursive: true });
    assert.equal(await findCloudSyncMarker(join(base, 'plain', 'farm')), undefined);
    await assertNotCloudSynced(join(base, 'plain', 'farm'));

    await mkdir(join(base, 'synced', '.stfolder'), { recursive: true });
    await mkdir(join(base, 'synced', 'farm'));
    await symlink(join(base, 'synced', 'farm'), join(base, 'plain', 'link'));
    assert.equal((await findCloudSyncMarker(join(base, 'plain', 'link')))?.service, 'syncthing');
    await assert.rejects(
      assertNotCloudSynced(join(base, 'plain', 'link'), 'shared_storage_path'),
      (error: UserError) => error.code === 'cloud_synced' && /Syncthing/.test(error.message),
    );
  });
});
