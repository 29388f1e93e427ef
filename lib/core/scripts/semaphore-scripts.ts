import { luaScript } from './lua-script.js';
import { HANDED_SLOT_PREFIX, PERMIT_SLOT_INFIX, SEMAPHORE_MARKER_PREFIX } from './keys.js';
import { QUEUE_LUA } from './wait-queue-scripts.js';

/**
 * Lua shared by the semaphore scripts. A semaphore of `limit` permits is `limit` slots, and
 * each slot is a mutex: the key `<key>:redlock:permit:<slot>` holds its holder's value with the
 * holder's ttl. A permit is one slot held on a quorum of nodes, so no two holders share a slot
 * and at most `limit` hold permits (`docs/correctness.md`). While any slot is held, the key
 * itself holds the marker `!sem:<limit>` (lapsing no sooner than the slots), which keeps
 * mutexes and readers off it and tells a semaphore with another limit. Waiters queue on the
 * key as a mutex's do, and a freed slot is handed to the first of them: it holds `?<value>`
 * until the waiter takes it. A slot handed but not yet taken may change places with another
 * (see the acquire's preferred slot): nobody has counted it yet.
 */
const SEMAPHORE_LUA = `${QUEUE_LUA}local HANDED = '${HANDED_SLOT_PREFIX}'
local function slot_key(key, slot)
  return key .. '${PERMIT_SLOT_INFIX}' .. slot
end
-- Every slot's key, in slot order (index slot + 1), made once per script run.
local names
local function slot_names(key, limit)
  if not names then
    names = {}
    for slot = 0, tonumber(limit) - 1 do
      names[slot + 1] = slot_key(key, slot)
    end
  end
  return names
end
-- Every slot's content, in one MGET (index slot + 1; false for a free slot).
local function slot_values(key, limit)
  return redis.call('mget', unpack(slot_names(key, limit)))
end
-- What else the key is used as, if it is not free or a semaphore of this limit: the answer
-- that tells the client so ({'kind', what}); nil when all is well. Also answers whether the
-- key is free.
local function kind_clash(key, limit)
  local current = redis.call('get', key)
  if not current then return nil, true end
  local other = semaphore_limit(current)
  if other == limit then return nil, false end
  if other then return {'kind', 'semaphore:' .. other}, false end
  if current == READERS_MARKER or is_reader_value(current) then return {'kind', 'read'}, false end
  return {'kind', 'mutex'}, false
end
-- Keeps the marker on the key for at least ttl ms from now (the key is free, as key_free
-- says when it is known, or the marker).
local function cover(key, limit, ttl, key_free)
  if key_free or redis.call('pttl', key) < tonumber(ttl) then
    redis.call('set', key, SEMAPHORE_MARKER .. limit, 'PX', ttl)
  end
end
-- Whether a slot's content is a value handed to a waiter that has not taken it yet.
local function is_handed(current)
  return current and string.sub(current, 1, #HANDED) == HANDED
end
-- Deletes every slot that holds this value, taken or handed, but the one to keep (nil for
-- none); answers how many it deleted.
local function forget_value(key, limit, value, keep)
  local handed = HANDED .. value
  local found = {}
  for index, current in ipairs(slot_values(key, limit)) do
    if index - 1 ~= keep and (current == value or current == handed) then
      found[#found + 1] = names[index]
    end
  end
  if #found == 0 then return 0 end
  return redis.call('del', unpack(found))
end
-- Deletes the marker once no slot is held (the key is this semaphore's).
local function drop_marker_if_empty(key, limit)
  if redis.call('exists', unpack(slot_names(key, limit))) == 0 then
    redis.call('del', key)
  end
end
-- Hands each free slot to the first live waiter, in queue order, until either runs out: the
-- slot holds '?<value>' with the waiter's ttl (which keeps newcomers off it), and the waiter is
-- told to take its permit, and which slot it was handed here ('<value>@<slot>').
local function hand_off_slots(key, limit, waiters, deadlines)
  for index, current in ipairs(slot_values(key, limit)) do
    if not current then
      local first = first_waiter(waiters, deadlines, clock())
      if not first then return end
      local ttl, inbox, value = parse_member(first)
      redis.call('set', names[index], HANDED .. value, 'PX', ttl)
      cover(key, limit, ttl)
      redis.call('zrem', waiters, first)
      redis.call('zrem', deadlines, first)
      notify(key, inbox, value .. '@' .. (index - 1))
    end
  end
end
`;

/**
 * Take a permit of a semaphore, in queue order: answers the slot granted (0 to limit − 1).
 *
 * - An acquisition's first attempt (preferred slot '') on an idle semaphore (its key free, no
 *   queue) takes slot 0 with `SET NX` and looks at nothing else. On a semaphore nobody waits
 *   for (no queue) it takes the lowest free slot with `SET NX`, stopping at the first.
 * - Otherwise it looks at every slot. With a preferred slot (the one most nodes granted this
 *   value in its last attempt), it takes that slot when the slot holds this value, or is free
 *   or only handed to another waiter and this one may take a slot here (it holds or was handed
 *   one, or fewer live waiters are ahead of it than slots are free); a slot this value held
 *   here changes places with it (free, or handed to that other waiter instead).
 * - Else it takes the slot it holds or was handed here; else the lowest free slot, when fewer
 *   live waiters are ahead of it than slots are free (a newcomer counts every waiter).
 * - Refused, it joins the queue (or renews its entry, keeping its place) and answers
 *   `{held, now}`: how long until a slot frees (the soonest PTTL, -1 if a slot has no expiry)
 *   or, when free slots are kept for the waiters ahead, the first one's remaining entry life;
 *   and the node's clock.
 * - A key used as something else answers `{'kind', what}` (`mutex`, `read`,
 *   `semaphore:<other limit>`).
 * - Asked for the preferred slot `?`, it takes nothing and answers `{'open', slots...}`: the
 *   slots this value could have here (free, only handed out, or its own), so that the client
 *   can ask every node for one that most of them have open.
 *
 * KEYS: the semaphore's key, its waiters, its waiter deadlines.
 * ARGV[1]: the permit's value. ARGV[2]: ttl in milliseconds (also the entry's life).
 * ARGV[3]: the limit. ARGV[4]: the waiter's queue member ('' for a first attempt).
 * ARGV[5]: its priority, or ''. ARGV[6]: '1' to join the queue when refused. ARGV[7]: the
 * preferred slot; '' on a first attempt, '*' for no preference on a later one (its value may
 * hold or have been handed a slot here); or '?' to ask which slots are open.
 */
export const SEMAPHORE_ACQUIRE_SCRIPT = luaScript(
  'semaphore acquire',
  // An idle semaphore's first attempt, before the shared Lua is even defined: the key is free,
  // so no slot is held or handed here (the marker outlasts them all), and nobody queues (a
  // live waiter keeps its turn, and a re-sent attempt whose entry is queued takes the full
  // script, which removes it). Slot 0 is taken with SET NX all the same: a slot is never taken
  // on the marker's word alone.
  `if ARGV[7] == '' and not redis.call('get', KEYS[1]) and redis.call('exists', KEYS[2]) == 0 then
  if redis.call('set', KEYS[1] .. '${PERMIT_SLOT_INFIX}0', ARGV[1], 'NX', 'PX', ARGV[2]) then
    redis.call('set', KEYS[1], '${SEMAPHORE_MARKER_PREFIX}' .. ARGV[3], 'PX', ARGV[2])
    return 0
  end
end
${SEMAPHORE_LUA}local key, waiters, deadlines = KEYS[1], KEYS[2], KEYS[3]
local value, ttl, limit, member, preferred = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[7]
local clash, key_free = kind_clash(key, limit)
if clash then return clash end
local slots = tonumber(limit)
local handed_value = HANDED .. value
if preferred == '?' then
  -- The slots this value could have here: free, only handed out, or its own.
  local open = {'open'}
  for index, current in ipairs(slot_values(key, limit)) do
    if not current or is_handed(current) or current == value then
      open[#open + 1] = index - 1
    end
  end
  return open
end
local queued = redis.call('exists', waiters) == 1
local function take(slot)
  redis.call('set', slot_key(key, slot), value, 'PX', ttl)
  cover(key, limit, ttl, key_free)
  if queued and member ~= '' then
    redis.call('zrem', waiters, member)
    redis.call('zrem', deadlines, member)
  end
  return slot
end
if preferred == '' and not queued then
  -- A first attempt (its value can hold nothing here) on a semaphore nobody waits for.
  for slot = 0, slots - 1 do
    if redis.call('set', slot_key(key, slot), value, 'NX', 'PX', ttl) then
      cover(key, limit, ttl, key_free)
      return slot
    end
  end
end
local contents = slot_values(key, limit)
local ours, free, first_free = nil, 0, nil
for index, current in ipairs(contents) do
  if current == value or current == handed_value then
    ours = ours or index - 1
  elseif not current then
    free = free + 1
    first_free = first_free or index - 1
  end
end
-- Whether this waiter may take a free slot here: fewer live waiters ahead than free slots.
local deadline
local function may_take_free()
  if free == 0 then return false end
  local first, first_deadline = first_waiter(waiters, deadlines, clock())
  if not first then return true end
  deadline = first_deadline
  local ahead = (member ~= '' and redis.call('zrank', waiters, member)) or redis.call('zcard', waiters)
  return ahead < free
end
local want = tonumber(preferred)
if want and want >= 0 and want < slots and want ~= ours then
  local current = contents[want + 1]
  if (not current or is_handed(current)) and (ours or may_take_free()) then
    if ours then
      -- The two change places: what the preferred slot held (nothing, or another waiter's
      -- handed value with its ttl) goes to the slot this value held here.
      local other = slot_key(key, ours)
      if current then
        redis.call('set', other, current, 'PX', math.max(redis.call('pttl', slot_key(key, want)), 1))
      else
        redis.call('del', other)
      end
      take(want)
      if not current and queued then hand_off_slots(key, limit, waiters, deadlines) end
      return want
    end
    if current then
      -- Handed to another waiter: it gets the lowest free slot instead (there is one).
      redis.call('set', slot_key(key, first_free), current, 'PX', math.max(redis.call('pttl', slot_key(key, want)), 1))
    end
    return take(want)
  end
end
if ours then
  return take(ours)
end
local held
if may_take_free() then
  return take(first_free)
elseif free > 0 then
  held = math.max((deadline or clock()) - clock(), 1)
else
  -- How long until a slot frees: the soonest PTTL (-1 if every slot is held without expiry).
  for index = 1, slots do
    local remaining = redis.call('pttl', names[index])
    if remaining > 0 and (not held or held == -1 or remaining < held) then
      held = remaining
    elseif remaining == -1 and not held then
      held = -1
    end
  end
  held = held or 1
end
if ARGV[6] == '1' then
  enqueue(waiters, deadlines, member, ARGV[5], tonumber(ttl), clock())
end
return {held, clock()}`,
  true,
);

/**
 * A permit's release, a waiter's `leave` / `stay` (see the hand-off release), or a holder's
 * `trim`. Looks at every slot: deletes those that hold this value, taken or handed (`trim`
 * keeps the given slot: the permit's, after nodes granted the value other slots too), then,
 * if the key has a queue, hands every free slot to the first waiters; the last slot out
 * deletes the marker. Answers 1 if the given slot held this value (the permit was still held
 * here), else 0; with no slot given, how many slots it deleted.
 *
 * KEYS: the semaphore's key, its waiters, its waiter deadlines. ARGV[1]: the permit's value.
 * ARGV[2]: the limit. ARGV[3]: its slot, or '' if not known. ARGV[4]: the mode, `release`,
 * `leave`, `stay` or `trim`. ARGV[5]: the queue member to remove ('' for none). For `stay`,
 * ARGV[6]: the member to add, ARGV[7]: its priority ('' keeps the removed member's score),
 * ARGV[8]: its life in milliseconds.
 */
export const SEMAPHORE_RELEASE_SCRIPT = luaScript(
  'semaphore release',
  // A holder's plain release with nobody queued, before the shared Lua is defined: its slot
  // deleted, and, as the last one out, the marker too (checked: the key is deleted only if it
  // holds this semaphore's marker). With a queue (a slot to hand on) the full script runs: the
  // queue is looked at first, so that costs one EXISTS more.
  `if ARGV[4] == 'release' and ARGV[3] ~= '' and redis.call('exists', KEYS[2]) == 0 then
  local own = KEYS[1] .. '${PERMIT_SLOT_INFIX}' .. ARGV[3]
  if redis.call('get', own) == ARGV[1] then
    redis.call('del', own)
    local slots = {}
    for slot = 0, tonumber(ARGV[2]) - 1 do
      slots[slot + 1] = KEYS[1] .. '${PERMIT_SLOT_INFIX}' .. slot
    end
    if redis.call('exists', unpack(slots)) == 0
      and redis.call('get', KEYS[1]) == '${SEMAPHORE_MARKER_PREFIX}' .. ARGV[2] then
      redis.call('del', KEYS[1])
    end
    return 1
  end
end
${SEMAPHORE_LUA}local key, waiters, deadlines = KEYS[1], KEYS[2], KEYS[3]
local value, limit, slot, mode = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local held, deleted = 0, 0
if slot ~= '' and redis.call('get', slot_key(key, slot)) == value then
  held = 1
  if mode == 'release' then
    deleted = redis.call('del', slot_key(key, slot))
  end
end
-- A holder's plain release found its slot: it has no copies to look for (those of its
-- acquisition were trimmed, and one that waited gives its queue entry, 'leave').
if mode ~= 'release' or held == 0 then
  deleted = deleted + forget_value(key, limit, value, mode == 'trim' and tonumber(slot) or nil)
end
local has_queue = leave_or_stay(waiters, deadlines, mode, ARGV[5], ARGV[6], ARGV[7], ARGV[8])
if not kind_clash(key, limit) then
  if has_queue then hand_off_slots(key, limit, waiters, deadlines) end
  drop_marker_if_empty(key, limit)
end
if slot ~= '' then return held end
return deleted`,
  false,
);

/**
 * Extend a permit: its slot's ttl becomes ttl from now, and the marker lasts as long. Like the
 * mutex's extend, it re-creates the slot where it is free (lost in a restart, or lapsed);
 * where another holder has the slot, or the key is used as something else, it answers 0 (lost
 * on this node). It also deletes other slots the value holds here (grants of other slots, or
 * slots handed to an entry it left in the queue), takes that entry out, and hands what it
 * freed to the waiters. Answers 1.
 *
 * KEYS: the semaphore's key, its waiters, its waiter deadlines. ARGV[1]: the permit's value.
 * ARGV[2]: ttl in milliseconds. ARGV[3]: the limit. ARGV[4]: the permit's slot. ARGV[5]: the
 * holder's queue member, or ''.
 */
export const SEMAPHORE_EXTEND_SCRIPT = luaScript(
  'semaphore extend',
  `${SEMAPHORE_LUA}local key, waiters, deadlines = KEYS[1], KEYS[2], KEYS[3]
local value, ttl, limit, slot, member = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5] or ''
if kind_clash(key, limit) then return 0 end
local name = slot_key(key, slot)
local current = redis.call('get', name)
if current and current ~= value and current ~= HANDED .. value then return 0 end
redis.call('set', name, value, 'PX', ttl)
cover(key, limit, ttl)
local forgotten = forget_value(key, limit, value, slot)
if member ~= '' then
  redis.call('zrem', waiters, member)
  redis.call('zrem', deadlines, member)
end
if forgotten > 0 and redis.call('exists', waiters) == 1 then
  hand_off_slots(key, limit, waiters, deadlines)
end
return 1`,
  true,
);
