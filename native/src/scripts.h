// The scripts of a tracked isolate's code, by V8's script id, held weakly. Core's V8 log parser
// asks them for the lines of script offsets, so node need not log every script's source
// (--no-log-source-code: most of the log's bytes, and of the time spent writing and reading it).
#pragma once

#include <v8.h>

namespace perfprofile {

/** Starts keeping the isolate's scripts, as its code events name them (JS thread). */
void KeepScripts(v8::Isolate* isolate);
/** Drops them (JS thread: tracking ended). */
void DropScripts(v8::Isolate* isolate);
/** Keeps the script of a CODE_ADDED event, if the isolate's are kept and this is its JS thread. */
void NoteScript(v8::Isolate* isolate, v8::Local<v8::UnboundScript> script);
/** The kept script `id`; empty if never seen or already collected (JS thread). */
v8::Local<v8::UnboundScript> FindScript(v8::Isolate* isolate, int id);

}  // namespace perfprofile
