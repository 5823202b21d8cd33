// Preloaded (`--require`) by v8LogFlags(logfile, { quiet: true }): sets V8's log flags back to
// their defaults until a thread tracks code (startCodeLog sets them again). V8 rejects a code
// cache made under other flags, and node's cache for its own modules was made under the
// defaults: with a log flag set, every built-in module loaded from here on would be compiled
// from source (docs/PERFORMANCE.md). The log file V8 opened stays open; Workers started before
// the tracking get none.
'use strict';
const { setFlagsFromString } = require('node:v8');

setFlagsFromString('--no-log');
setFlagsFromString('--logfile=v8.log');
