import { createRaspberryPiIna260Plugin } from './plugin';

export const { manifest, create, detect } = createRaspberryPiIna260Plugin();
