// Package s3sync uploads a local directory to an S3 prefix and, on request,
// deletes the destination keys that have no source file.
//
// # Deciding what to upload
//
// Files are compared by content, never by modification time, because a
// fresh checkout gives every file a new mtime. A destination key is left
// alone when its size equals the file's size and its ETag equals the file's
// MD5 (single-part objects) or the file's multipart ETag, the MD5 of the
// part MD5s followed by "-N". The multipart ETag is computed with the part
// size this package would upload with and, when the part count differs,
// with the part sizes other tools use (5, 8, 16 and 64 MiB, and the size
// divided by the part count, rounded up to a MiB). Objects encrypted with
// SSE-KMS or SSE-C have ETags that are not MD5s, so a run with SSE-KMS
// writes the manifest object PREFIX/.countersign/manifest.json, which
// records each key's size, MD5 and ETag. A later run compares the recorded
// MD5 with the local file whenever the listed ETag equals the recorded one.
//
// The prefix PREFIX/.countersign/ is reserved for the manifest and for the
// canary object of the preflight command: it is never uploaded to from the
// source, never deleted and never counted.
//
// # Filters
//
// Each filter pattern is matched against a path relative to the source
// directory (for destination keys, relative to the prefix), with "/" as
// the separator, using the Match rules of github.com/bmatcuk/doublestar/v4:
// "*" matches within one path segment, "**" matches across segments, and
// "?", "[...]" and "{a,b}" work as in a shell. Three further rules apply:
//
//   - A pattern without "/" also matches the base name of a file at any
//     depth, so the exclude pattern "*.tmp" excludes "a/b/c.tmp".
//   - A pattern ending in "/" matches the directory it names and every
//     path below it, so "logs/" excludes "logs/x" and "logs/a/y", and
//     "cache/" (no other "/") excludes "cache" directories at any depth.
//   - A pattern never matches a directory name by its base name unless it
//     ends in "/": "build" excludes a file named build, not build/x.
//
// Filters are applied in order and the last one that matches a path
// decides: an exclude filter leaves the path out, an include filter keeps
// it. A path that no filter matches is included. A pattern that is invalid
// or starts with "/" is a usage error.
//
// # Logging
//
// The logger comes from the context (zerolog.Ctx): debug for each request
// and decision, info for the plan and the summary, warn for skipped special
// files and symlink loops, and error once for each failed file.
package s3sync
