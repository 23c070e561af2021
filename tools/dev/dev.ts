// `bun run dev`: set-up first when needed (a fresh clone needs no `bun install`), then the runner.
// The runner is imported only afterwards, because its imports need the installed dependencies; when
// set-up had to run, it starts in a fresh process instead (tools/bootstrap/rerun.ts says why).
import { ensureDependencies } from '../bootstrap/ensure-dependencies.ts';
import { isRerun, rerunInFreshProcess } from '../bootstrap/rerun.ts';

if (ensureDependencies() && !isRerun()) await rerunInFreshProcess(['bun', '--no-env-file', import.meta.path]);
await import('./dev-runner.ts');
