// npm pack / publish hook: the package must carry the prebuilt addon users install (prebuilds/linux-x64, made by
// `npm run prebuildify`), or every user on linux-x64 would silently compile from source for minutes.
import { existsSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'prebuilds', 'linux-x64');
if (!existsSync(dir) || !readdirSync(dir).some((f) => f.endsWith('.node'))) {
  console.error(`tensorforge: ${dir} holds no prebuilt addon; run \`npm run prebuildify\` before packing or publishing`);
  process.exit(1);
}
