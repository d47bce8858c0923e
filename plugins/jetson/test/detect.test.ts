import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FixtureTree } from '@edge-metrics/core/testing';
import { deviceTypeFromCompatible, deviceTypeFromModel, detectJetson } from '../src/detect';
import { fakeTegrastats, options } from './helpers';

// Device-tree files and nv_tegra_release of real boards (sources in fixtures/README.md).
const DEVICE_TREES = join(__dirname, 'device-trees');

function rootedAt(root: string, tegrastatsPath = 'tegrastats'): ReturnType<typeof options> {
  return options({
    tegrastats_path: tegrastatsPath,
    proc_root: join(root, 'proc'),
    sys_root: join(root, 'sys'),
    etc_root: join(root, 'etc'),
  });
}

describe('detectJetson', () => {
  /** A board's root folder, empty until a test writes into it. */
  let tree: FixtureTree;
  beforeEach(async () => {
    tree = await FixtureTree.create();
  });
  afterEach(() => tree.dispose());

  it.each([
    ['agx-thor', 'jetson_thor', 'NVIDIA Jetson AGX Thor Developer Kit'],
    ['agx-orin', 'jetson_orin', 'NVIDIA Jetson AGX Orin Developer Kit'],
    ['orin-nano', 'jetson_orin', 'NVIDIA Orin Nano Developer Kit'],
  ])('finds the %s by its device tree and names it %s', async (board, deviceType, model) => {
    const detection = await detectJetson(rootedAt(join(DEVICE_TREES, board)), '');
    expect(detection).toEqual({ found: true, deviceType, reason: expect.stringContaining(`device-tree model '${model}'`) });
    expect(detection.reason).toContain('nv_tegra_release (# R3');
  });

  it('finds a Jetson by /etc/nv_tegra_release alone', async () => {
    await tree.write('etc/nv_tegra_release', await readFile(join(DEVICE_TREES, 'orin-nano', 'etc', 'nv_tegra_release'), 'utf8'));
    expect(await detectJetson(rootedAt(tree.root), '')).toEqual({
      found: true,
      deviceType: 'jetson',
      reason: `found ${tree.path('etc/nv_tegra_release')} (# R35 (release), REVISION: 3.1, GCID: 32827747, BOARD: t186ref, EABI: aarch64, DATE: Sun Mar 19 15:19:21 UTC 2023)`,
    });
  });

  it('finds a Jetson by the SoC in the device-tree compatible list when the model says nothing', async () => {
    await tree.write('proc/device-tree/compatible', await readFile(join(DEVICE_TREES, 'agx-thor', 'proc', 'device-tree', 'compatible'), 'utf8'));
    expect(await detectJetson(rootedAt(tree.root), '')).toMatchObject({ found: true, deviceType: 'jetson_thor' });
  });

  it('finds tegrastats on PATH, and at tegrastats_path', async () => {
    const path = await fakeTegrastats(tree, '', 'bin/tegrastats');
    expect(await detectJetson(rootedAt(tree.root), `/nonexistent:${tree.path('bin')}`)).toEqual({ found: true, deviceType: 'jetson', reason: `found tegrastats at ${path}` });
    expect(await detectJetson(rootedAt(tree.root, path), '')).toEqual({ found: true, deviceType: 'jetson', reason: `found tegrastats at ${path}` });
  });

  it('says where it looked when there is no Jetson', async () => {
    const detection = await detectJetson(rootedAt(tree.root), '');
    expect(detection.found).toBe(false);
    expect(detection.reason).toBe(
      `no Jetson found: no Tegra device-tree model under ${tree.path('proc')} or ${tree.path('sys')}, no ${tree.path('etc/nv_tegra_release')}, no tegrastats 'tegrastats'`,
    );
  });
});

describe('device type names', () => {
  it.each([
    ['NVIDIA Jetson AGX Thor Developer Kit', 'jetson_thor'],
    ['NVIDIA Jetson AGX Orin Developer Kit', 'jetson_orin'],
    ['NVIDIA Orin Nano Developer Kit', 'jetson_orin'],
    ['NVIDIA Jetson Nano Developer Kit', 'jetson_nano'],
    ['lanai-3636', undefined],
  ])('the model %s is %s', (model, deviceType) => {
    expect(deviceTypeFromModel(model)).toBe(deviceType);
  });

  it.each([
    ['nvidia,p3768-0000+p3767-0003\0nvidia,p3767-0003\0nvidia,tegra234\0nvidia,tegra23x\0', 'jetson_orin'],
    ['nvidia,p4071-0000+p3834-0008\0nvidia,p3834-0008\0nvidia,tegra264\0', 'jetson_thor'],
    ['nvidia,p3737-0000+p3701-0000\0', undefined],
  ])('the compatible list %j is %s', (compatible, deviceType) => {
    expect(deviceTypeFromCompatible(compatible)).toBe(deviceType);
  });
});
