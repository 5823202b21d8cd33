// The wire format's single source is the repository's proto/profile.proto; the package ships a
// copy so that it works when installed from a tarball.
import { copyFileSync, mkdirSync } from 'node:fs';
const here = new URL('../', import.meta.url);
mkdirSync(new URL('proto/', here), { recursive: true });
copyFileSync(new URL('../../proto/profile.proto', here), new URL('proto/profile.proto', here));
