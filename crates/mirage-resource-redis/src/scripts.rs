//! The Lua scripts that make each change one atomic step on the server
//! (`EVALSHA`, falling back to `EVAL`): a concurrent client never sees a
//! half-done write, rename or rmdir, and a check ("is the parent a
//! directory?", "is the version still the one read?") cannot go stale
//! before the change it guards.
//!
//! Replies are status words the Rust side maps to errors: `ISDIR`,
//! `NOPARENT`, `NOENT`, `NOTDIR`, `EXIST`, `NOTEMPTY`, `CONFLICT`, `INVAL`,
//! `ROOT`; success is `OK` or the new size. The root `/` is a directory
//! whether or not the set holds it (a flushed or restarted server), and a
//! write or mkdir adds it back.

use std::sync::LazyLock;

use redis::Script;

/// Write or append, from an argument or from a staged key.
///
/// KEYS: 1 dir set, 2 file, 3 modified, 4 staged (tmp) key.
/// ARGV: 1 path, 2 parent, 3 mtime, 4 op (`set`, `append`, `set_tmp`,
/// `append_tmp`), 5 data, 6 conditional (`1`/`0`), 7 expected modified
/// string (`''` for none), 8 expected size.
/// Reply: the new size, or a status word.
pub(crate) static PUT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 'ISDIR' end
if ARGV[2] ~= '/' and redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 0 then
  return 'NOPARENT'
end
if ARGV[6] == '1' then
  if redis.call('EXISTS', KEYS[2]) == 0 then return 'CONFLICT' end
  local m = redis.call('GET', KEYS[3]) or ''
  if m ~= ARGV[7] or tostring(redis.call('STRLEN', KEYS[2])) ~= ARGV[8] then
    return 'CONFLICT'
  end
end
local op = ARGV[4]
if op == 'set' then
  redis.call('SET', KEYS[2], ARGV[5])
elseif op == 'append' then
  redis.call('APPEND', KEYS[2], ARGV[5])
elseif op == 'set_tmp' then
  redis.call('RENAME', KEYS[4], KEYS[2])
  redis.call('PERSIST', KEYS[2])
else
  redis.call('APPEND', KEYS[2], redis.call('GET', KEYS[4]) or '')
  redis.call('DEL', KEYS[4])
end
redis.call('SET', KEYS[3], ARGV[3])
redis.call('SADD', KEYS[1], '/')
return tostring(redis.call('STRLEN', KEYS[2]))
",
    )
});

/// mkdir: KEYS 1 dir set, 2 file, 3 modified; ARGV 1 path, 2 parent, 3 mtime.
pub(crate) static MKDIR: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  return 'EXIST'
end
if ARGV[2] ~= '/' and redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 0 then
  return 'NOPARENT'
end
redis.call('SADD', KEYS[1], '/', ARGV[1])
redis.call('SET', KEYS[3], ARGV[3])
return 'OK'
",
    )
});

/// unlink: KEYS 1 dir set, 2 file, 3 modified, 4 attrs; ARGV 1 path.
pub(crate) static UNLINK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 'ISDIR' end
if redis.call('DEL', KEYS[2]) == 0 then return 'NOENT' end
redis.call('DEL', KEYS[3], KEYS[4])
return 'OK'
",
    )
});

/// Whether a directory has children: Lua helpers shared by rmdir and
/// rename (an SSCAN of the dir set and a SCAN of the file keys, each
/// stopping at the first match).
const HAS_CHILDREN: &str = r"
local function has_children(dirset, dir_pattern, file_pattern)
  local c = '0'
  repeat
    local r = redis.call('SSCAN', dirset, c, 'MATCH', dir_pattern, 'COUNT', 1000)
    c = r[1]
    if #r[2] > 0 then return true end
  until c == '0'
  c = '0'
  repeat
    local r = redis.call('SCAN', c, 'MATCH', file_pattern, 'COUNT', 1000)
    c = r[1]
    if #r[2] > 0 then return true end
  until c == '0'
  return false
end
";

/// rmdir: KEYS 1 dir set, 2 file, 3 modified, 4 attrs; ARGV 1 path,
/// 2 child dir pattern, 3 child file-key pattern.
pub(crate) static RMDIR: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{HAS_CHILDREN}
if ARGV[1] ~= '/' and redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then
  if redis.call('EXISTS', KEYS[2]) == 1 then return 'NOTDIR' end
  return 'NOENT'
end
if ARGV[1] == '/' then return 'ROOT' end
if has_children(KEYS[1], ARGV[2], ARGV[3]) then return 'NOTEMPTY' end
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[3], KEYS[4])
return 'OK'
"
    ))
});

/// rename of a file or a whole directory subtree, in one step.
///
/// KEYS: 1 dir set. ARGV: 1 key prefix, 2 from, 3 to, 4 parent of to,
/// 5 from's child dir pattern, 6 from's child file-key pattern, 7 to's
/// child dir pattern, 8 to's child file-key pattern.
///
/// The keys it touches are named inside the script from the prefix (the
/// subtree is found by SCAN), so it needs a single Redis node, not a
/// cluster. A file takes its mtime and attrs along (as rename(2) keeps
/// them); an existing target file is replaced, an empty target directory
/// too.
pub(crate) static RENAME: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{HAS_CHILDREN}
local P, from, to = ARGV[1], ARGV[2], ARGV[3]
local dirset = KEYS[1]
local function fk(p) return P .. 'file:' .. p end
local function mk(p) return P .. 'modified:' .. p end
local function ak(p) return P .. 'attrs:' .. p end
local function move(a, b)
  if redis.call('EXISTS', a) == 1 then redis.call('RENAME', a, b) else redis.call('DEL', b) end
end
local src_dir = from == '/' or redis.call('SISMEMBER', dirset, from) == 1
if not src_dir and redis.call('EXISTS', fk(from)) == 0 then return 'NOENT' end
if from == '/' then return 'INVAL' end
if from == to then return 'OK' end
if src_dir and string.sub(to, 1, #from + 1) == from .. '/' then return 'INVAL' end
if ARGV[4] ~= '/' and redis.call('SISMEMBER', dirset, ARGV[4]) == 0 then return 'NOPARENT' end
local dst_dir = to == '/' or redis.call('SISMEMBER', dirset, to) == 1
if not src_dir then
  if dst_dir then return 'ISDIR' end
  move(fk(from), fk(to)); move(mk(from), mk(to)); move(ak(from), ak(to))
  return 'OK'
end
if redis.call('EXISTS', fk(to)) == 1 then return 'NOTDIR' end
if dst_dir and has_children(dirset, ARGV[7], ARGV[8]) then return 'NOTEMPTY' end
local dirs, files = {{from}}, {{}}
local c = '0'
repeat
  local r = redis.call('SSCAN', dirset, c, 'MATCH', ARGV[5], 'COUNT', 1000)
  c = r[1]
  for _, d in ipairs(r[2]) do table.insert(dirs, d) end
until c == '0'
local strip = #P + 5
c = '0'
repeat
  local r = redis.call('SCAN', c, 'MATCH', ARGV[6], 'COUNT', 1000)
  c = r[1]
  for _, k in ipairs(r[2]) do table.insert(files, string.sub(k, strip + 1)) end
until c == '0'
local n = #from
for _, d in ipairs(dirs) do
  local nd = to .. string.sub(d, n + 1)
  redis.call('SREM', dirset, d)
  redis.call('SADD', dirset, nd)
  move(mk(d), mk(nd)); move(ak(d), ak(nd))
end
for _, f in ipairs(files) do
  local nf = to .. string.sub(f, n + 1)
  move(fk(f), fk(nf)); move(mk(f), mk(nf)); move(ak(f), ak(nf))
end
return 'OK'
"
    ))
});

/// chmod: KEYS 1 dir set, 2 file, 3 attrs; ARGV 1 path, 2 mode (decimal).
pub(crate) static CHMOD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if ARGV[1] ~= '/' and redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 0 then
  return 'NOENT'
end
redis.call('HSET', KEYS[3], 'mode', ARGV[2])
return 'OK'
",
    )
});

/// A read that can answer "unchanged": KEYS 1 file, 2 modified; ARGV 1 the
/// expected mtime string, 2 expected size, 3 and 4 GETRANGE bounds.
/// Reply: `{'NOENT'}`, `{'SAME'}`, or `{'DATA', size, mtime, bytes}`.
pub(crate) static CGET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOENT'} end
local size = redis.call('STRLEN', KEYS[1])
local m = redis.call('GET', KEYS[2]) or ''
if m == ARGV[1] and tostring(size) == ARGV[2] then return {'SAME'} end
return {'DATA', size, m, redis.call('GETRANGE', KEYS[1], ARGV[3], ARGV[4])}
",
    )
});
