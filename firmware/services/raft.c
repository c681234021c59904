/*
 * raft.c - the Raft core of SWARM_COORD (see raft.h for the contracts and
 * the sources). Section numbers below are the extended Raft paper's
 * ("Raft 5.4.2") and Ongaro's thesis ("thesis 9.6").
 */
#include "raft.h"

#include <string.h>

#include "ek3_err.h"
#include "ek3_rng.h"

/* ---- small helpers -------------------------------------------------- */

/* The leader lease (raft_cfg.lease_ms, else election_min_ms). */
static uint32_t raft_lease(const raft *r)
{
    return r->cfg.lease_ms ? r->cfg.lease_ms : r->cfg.election_min_ms;
}

static void bit_set(uint8_t *b, unsigned i)
{
    b[i / 8u] = (uint8_t)(b[i / 8u] | (1u << (i % 8u)));
}
static int bit_get(const uint8_t *b, unsigned i)
{
    return (b[i / 8u] >> (i % 8u)) & 1u;
}

static unsigned bit_count(const raft *r, const uint8_t *b)
{
    unsigned c = 0;
    for (unsigned i = 1; i <= r->cfg.n_nodes; i++)
        c += (unsigned)bit_get(b, i);
    return c;
}

static unsigned majority(const raft *r)
{
    return r->cfg.n_nodes / 2u + 1u;
}

static uint32_t sat_add(uint32_t a, uint32_t b)
{
    return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

static raft_entry *slot(raft *r, uint32_t index)
{
    return &r->log[index % RAFT_LOG_CAP];
}

/* The term of the entry at index: 0 for index 0, the snapshot's term at
 * snap_index, the ring's otherwise; -1 when not kept. */
static int term_at(const raft *r, uint32_t index, uint32_t *t)
{
    if (index == 0) {
        *t = 0;
        return 0;
    }
    if (index == r->snap_index) {
        *t = r->snap_term;
        return 0;
    }
    if (index < r->snap_index || index > r->last_index)
        return -1;
    *t = r->log[index % RAFT_LOG_CAP].term;
    return 0;
}

static void reset_election(raft *r)
{
    uint32_t span = r->cfg.election_max_ms - r->cfg.election_min_ms;
    r->election_elapsed = 0;
    r->election_timeout = r->cfg.election_min_ms + (uint32_t)(ek3_rng_splitmix64(&r->rng) % span);
}

static void set_term(raft *r, uint32_t term, uint16_t vote)
{
    if (r->term != term || r->voted_for != vote)
        r->persist_dirty = 1;
    r->term = term;
    r->voted_for = vote;
}

/* The outbox: a bounded FIFO; a full one drops the new message (counted). */
static raft_msg *push(raft *r, uint8_t kind, uint16_t to)
{
    if (r->out_count >= RAFT_OUTBOX_CAP) {
        r->stats.outbox_dropped++;
        return NULL;
    }
    raft_msg *m = &r->out[(r->out_head + r->out_count) % RAFT_OUTBOX_CAP];
    r->out_count++;
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->from = r->cfg.me;
    m->to = to;
    m->term = r->term;
    return m;
}

static void reply(raft *r, uint8_t kind, uint16_t to, uint32_t term, uint32_t index, int ok)
{
    raft_msg *m = push(r, kind, to);
    if (m) {
        m->term = term;
        m->index = index;
        m->ok = (uint8_t)(ok != 0);
    }
}

/* ---- the log -------------------------------------------------------- */

/* Compact up to index (<= commit): the snapshot becomes that entry, its
 * state the newest non-empty entry compacted (no-ops carry no state). */
static void compact(raft *r, uint32_t index)
{
    if (index <= r->snap_index || index > r->commit || index > r->last_index)
        return;
    for (uint32_t i = index; i > r->snap_index; i--)
        if (slot(r, i)->len > 0) {
            r->snap = *slot(r, i);
            break;
        }
    r->snap_term = slot(r, index)->term;
    r->snap_index = index;
}

/* Append at last_index + 1, compacting the committed prefix when the ring
 * is full. EK3_EBUSY when every kept entry is uncommitted. */
static int append_local(raft *r, uint32_t term, const uint8_t *data, uint8_t len)
{
    if (r->last_index - r->snap_index >= RAFT_LOG_CAP)
        compact(r, r->commit);
    if (r->last_index - r->snap_index >= RAFT_LOG_CAP || r->last_index >= UINT32_MAX - 1u)
        return EK3_EBUSY;
    r->last_index++;
    raft_entry *e = slot(r, r->last_index);
    memset(e, 0, sizeof *e);
    e->term = term;
    e->len = len;
    if (len > 0)
        memcpy(e->data, data, len);
    r->last_term = term;
    return 0;
}

static int up_to_date(const raft *r, uint32_t index, uint32_t term)
{
    return term > r->last_term || (term == r->last_term && index >= r->last_index);
}

/* ---- roles ---------------------------------------------------------- */

static void become_follower(raft *r, uint32_t term, uint16_t leader)
{
    if (term != r->term)
        set_term(r, term, 0);
    r->role = RAFT_FOLLOWER;
    r->leader = leader;
    r->leader_elapsed = 0;
    reset_election(r);
}

static void clear_round(raft *r)
{
    memset(r->granted, 0, sizeof r->granted);
    memset(r->refused, 0, sizeof r->refused);
    bit_set(r->granted, r->cfg.me);
}

/* The leader's broadcast APPEND: its newest entry after the one before it
 * (or no entry after the snapshot when none is kept), and its commit. */
static void broadcast_append(raft *r)
{
    raft_msg *m = push(r, RAFT_APPEND, 0);
    if (!m)
        return;
    m->commit = r->commit;
    if (r->last_index > r->snap_index) {
        m->index = r->last_index - 1u;
        (void)term_at(r, m->index, &m->log_term);
        m->n = 1;
        m->e = *slot(r, r->last_index);
    } else {
        m->index = r->last_index;
        m->log_term = r->last_term;
    }
}

/* Raft 5.3, 5.4.2: the newest entry of this term held by a majority
 * commits (with every entry before it); older terms only through it. */
static void maybe_commit(raft *r)
{
    for (uint32_t n = r->last_index; n > r->commit; n--) {
        uint32_t t = 0;
        if (term_at(r, n, &t) != 0 || t != r->term)
            return;
        unsigned count = 0;
        for (unsigned i = 1; i <= r->cfg.n_nodes; i++)
            count += r->match[i] >= n;
        if (count >= majority(r)) {
            r->commit = n;
            return;
        }
    }
}

static void become_leader(raft *r)
{
    r->role = RAFT_LEADER;
    r->leader = r->cfg.me;
    r->stats.elections_won++;
    /* the no-op of Raft 8: commits what earlier terms left (5.4.2) */
    (void)append_local(r, r->term, NULL, 0);
    for (unsigned i = 1; i <= r->cfg.n_nodes; i++) {
        r->next[i] = r->last_index + 1u;
        r->match[i] = 0;
    }
    r->match[r->cfg.me] = r->last_index;
    clear_round(r); /* granted[] now: the followers heard (CheckQuorum) */
    r->quorum_elapsed = 0;
    r->hb_elapsed = 0;
    broadcast_append(r);
    maybe_commit(r);
}

/* Start a round: a pre-election (thesis 9.6: ask with term + 1 without
 * incrementing) or an election (Raft 5.2: term + 1, vote for itself). */
static void campaign(raft *r, int pre)
{
    r->role = pre ? RAFT_PRECANDIDATE : RAFT_CANDIDATE;
    if (pre)
        r->stats.prevotes_started++;
    else {
        set_term(r, r->term + 1u, r->cfg.me);
        r->stats.elections_started++;
    }
    r->leader = 0;
    clear_round(r);
    reset_election(r);
    if (bit_count(r, r->granted) >= majority(r)) {
        if (pre)
            campaign(r, 0);
        else
            become_leader(r);
        return;
    }
    raft_msg *m = push(r, pre ? RAFT_PREVOTE : RAFT_VOTE, 0);
    if (m) {
        m->term = r->term + (pre ? 1u : 0u);
        m->index = r->last_index;
        m->log_term = r->last_term;
    }
}

/* One unicast catch-up: the next entry after what the follower holds, or
 * the snapshot when that entry is compacted (Raft 7). */
static void send_catchup(raft *r, uint16_t peer)
{
    uint32_t next = r->next[peer];
    if (next <= r->snap_index) {
        raft_msg *m = push(r, RAFT_SNAPSHOT, peer);
        if (!m)
            return;
        m->index = r->snap_index;
        m->log_term = r->snap_term;
        m->commit = r->commit;
        m->n = 1;
        m->e = r->snap;
        r->stats.snapshots_sent++;
        return;
    }
    raft_msg *m = push(r, RAFT_APPEND, peer);
    if (!m)
        return;
    m->index = next - 1u;
    (void)term_at(r, m->index, &m->log_term);
    m->commit = r->commit;
    if (next <= r->last_index) {
        m->n = 1;
        m->e = *slot(r, next);
    }
}

static void heartbeat(raft *r)
{
    broadcast_append(r);
    unsigned budget = RAFT_CATCHUP_MAX, n = r->cfg.n_nodes, start = r->catchup_cursor;
    for (unsigned i = 0; i < n && budget > 0; i++) {
        uint16_t peer = (uint16_t)((start + i) % n + 1u);
        if (peer == r->cfg.me)
            continue;
        /* the broadcast serves followers whose next is the newest entry */
        if (r->next[peer] < r->last_index || r->next[peer] <= r->snap_index) {
            send_catchup(r, peer);
            budget--;
            r->catchup_cursor = (uint16_t)(peer % n);
        }
    }
}

/* ---- the API -------------------------------------------------------- */

int raft_init(raft *r, const raft_cfg *c, uint32_t term, uint16_t voted_for, uint64_t seed)
{
    if (!r || !c || c->me == 0 || c->n_nodes == 0 || c->n_nodes > RAFT_MAX_NODES || c->me > c->n_nodes ||
        c->heartbeat_ms == 0 || c->election_min_ms <= c->heartbeat_ms || c->election_max_ms <= c->election_min_ms ||
        voted_for > c->n_nodes)
        return EK3_EINVAL;
    memset(r, 0, sizeof *r);
    r->cfg = *c;
    r->term = term;
    r->voted_for = voted_for;
    r->rng = seed;
    r->role = RAFT_FOLLOWER;
    r->leader_elapsed = UINT32_MAX;
    uint32_t quiet =
        c->quiet_ms ? c->quiet_ms
                    : (c->election_max_ms > UINT32_MAX / RAFT_QUIET_FACTOR ? UINT32_MAX
                                                                           : RAFT_QUIET_FACTOR * c->election_max_ms);
    r->quiet_ms = term > 0 ? quiet : 0;
    reset_election(r);
    return 0;
}

void raft_tick(raft *r, uint32_t ms)
{
    if (!r || ms == 0)
        return;
    r->leader_elapsed = sat_add(r->leader_elapsed, ms);
    r->quiet_ms = r->quiet_ms > ms ? r->quiet_ms - ms : 0;
    if (r->role != RAFT_LEADER) {
        r->election_elapsed = sat_add(r->election_elapsed, ms);
        if (r->election_elapsed >= r->election_timeout) {
            if (r->quiet_ms > 0)
                reset_election(r); /* quiet: no campaign */
            else
                campaign(r, 1);
        }
        return;
    }
    r->quorum_elapsed = sat_add(r->quorum_elapsed, ms);
    if (r->quorum_elapsed >= raft_lease(r)) { /* thesis 6.2 */
        if (bit_count(r, r->granted) < majority(r)) {
            r->stats.stepdowns_quorum++;
            become_follower(r, r->term, 0);
            return;
        }
        clear_round(r);
        r->quorum_elapsed = 0;
    }
    r->hb_elapsed = sat_add(r->hb_elapsed, ms);
    if (r->hb_elapsed >= r->cfg.heartbeat_ms) {
        r->hb_elapsed = 0;
        heartbeat(r);
    }
}

static int malformed(const raft *r, const raft_msg *m)
{
    if (m->kind >= RAFT_KIND_COUNT || m->from == 0 || m->from > r->cfg.n_nodes || m->from == r->cfg.me ||
        m->to > r->cfg.n_nodes || m->n > 1 || m->e.len > RAFT_ENTRY_MAX || m->term == 0 || m->ok > 1)
        return 1;
    if (m->term == UINT32_MAX || m->index == UINT32_MAX || m->commit == UINT32_MAX) /* no index or term wraps */
        return 1;
    if (m->kind == RAFT_APPEND) {
        if (m->log_term > m->term || (m->index == 0 && m->log_term != 0))
            return 1;
        if (m->n && (m->e.term == 0 || m->e.term > m->term || m->e.term < m->log_term))
            return 1;
    }
    if (m->kind == RAFT_SNAPSHOT && (m->n != 1 || m->index == 0 || m->log_term == 0 || m->log_term > m->term))
        return 1;
    return 0;
}

/* A follower's answer to an APPEND of its leader (Raft 5.3). */
static void handle_append(raft *r, const raft_msg *m)
{
    uint32_t prev = m->index, t = 0;
    if (prev < r->commit) { /* all it carries is committed here already */
        if (m->to == 0)
            r->quiet_ms = 0; /* and this log holds the leader's newest entry */
        reply(r, RAFT_APPEND_RESP, m->from, r->term, r->commit, 1);
        return;
    }
    if (prev > r->last_index || term_at(r, prev, &t) != 0 || t != m->log_term) {
        r->stats.appends_rejected++;
        uint32_t hint = prev > r->last_index ? r->last_index : (prev > 0 ? prev - 1u : 0);
        reply(r, RAFT_APPEND_RESP, m->from, r->term, hint, 0);
        return;
    }
    /* prev matches: the leader's commit up to prev is ours too */
    uint32_t c = m->commit < prev ? m->commit : prev;
    if (c > r->commit)
        r->commit = c;
    if (m->n == 1) {
        uint32_t idx = prev + 1u, have = 0;
        if (idx <= r->last_index && term_at(r, idx, &have) == 0 && have != m->e.term) {
            r->last_index = prev; /* a conflict: drop it and all after (idx > commit) */
            (void)term_at(r, prev, &r->last_term);
        }
        if (idx == r->last_index + 1u && append_local(r, m->e.term, m->e.data, m->e.len) != 0) {
            r->stats.appends_rejected++;
            reply(r, RAFT_APPEND_RESP, m->from, r->term, prev, 0);
            return;
        }
    }
    uint32_t matched = prev + m->n;
    if (m->to == 0)
        r->quiet_ms = 0; /* the leader's newest entry: this log is the leader's now */
    c = m->commit < matched ? m->commit : matched;
    if (c > r->commit)
        r->commit = c;
    reply(r, RAFT_APPEND_RESP, m->from, r->term, matched, 1);
}

/* Install a leader's snapshot (Raft 7): keep the suffix that follows it
 * when the entry at its index matches, else drop the whole log. */
static void handle_snapshot(raft *r, const raft_msg *m)
{
    if (m->index <= r->commit) {
        reply(r, RAFT_APPEND_RESP, m->from, r->term, r->commit, 1);
        return;
    }
    uint32_t t = 0;
    if (term_at(r, m->index, &t) != 0 || t != m->log_term) {
        r->last_index = m->index;
        r->last_term = m->log_term;
    }
    r->snap_index = m->index;
    r->snap_term = m->log_term;
    r->snap = m->e;
    r->commit = m->index;
    r->stats.snapshots_applied++;
    reply(r, RAFT_APPEND_RESP, m->from, r->term, m->index, 1);
}

static void handle_append_resp(raft *r, const raft_msg *m)
{
    uint16_t f = m->from;
    bit_set(r->granted, f); /* heard: CheckQuorum */
    if (m->ok) {
        if (m->index > r->last_index || m->index <= r->match[f])
            return;
        r->match[f] = m->index;
        if (r->next[f] <= m->index)
            r->next[f] = m->index + 1u;
        maybe_commit(r);
        return;
    }
    /* A hint below the match: the follower rebooted and lost its log (or
     * this is a late answer to an older probe: lowering match only delays
     * commits, which never go back; the next answer raises it again). */
    if (m->index < r->match[f])
        r->match[f] = m->index;
    if (r->next[f] > m->index + 1u)
        r->next[f] = m->index + 1u;
}

static void handle_vote(raft *r, const raft_msg *m)
{
    int pre = m->kind == RAFT_PREVOTE;
    int again = r->voted_for == m->from && m->term == r->term; /* the vote already given, repeated */
    int can = again || (r->voted_for == 0 && r->leader == 0) || (pre && m->term > r->term);
    int grant = can && up_to_date(r, m->index, m->log_term);
    if (grant && !again && r->quiet_ms > 0) {
        r->stats.votes_quiet++;
        grant = 0;
    }
    if (grant && !pre) {
        set_term(r, r->term, m->from);
        reset_election(r);
    }
    reply(r, pre ? RAFT_PREVOTE_RESP : RAFT_VOTE_RESP, m->from, grant && pre ? m->term : r->term, 0, grant);
}

static void handle_vote_resp(raft *r, const raft_msg *m)
{
    int pre = m->kind == RAFT_PREVOTE_RESP;
    if (r->role != (pre ? RAFT_PRECANDIDATE : RAFT_CANDIDATE))
        return;
    if (m->ok && m->term != r->term + (pre ? 1u : 0u))
        return;
    bit_set(m->ok ? r->granted : r->refused, m->from);
    if (bit_count(r, r->granted) >= majority(r)) {
        if (pre)
            campaign(r, 0);
        else
            become_leader(r);
    } else if (bit_count(r, r->refused) >= majority(r)) {
        if (pre)
            r->stats.prevotes_lost++;
        become_follower(r, r->term, 0);
    }
}

/* thesis 6.2: a follower that heard its leader within the minimum
 * election timeout, and a leader, ignore (pre)votes. */
static int in_lease(const raft *r)
{
    return r->role == RAFT_LEADER || (r->leader != 0 && r->leader_elapsed < raft_lease(r));
}

int raft_step(raft *r, const raft_msg *m)
{
    if (!r)
        return EK3_EINVAL;
    if (!m || malformed(r, m)) {
        r->stats.malformed++;
        return EK3_EINVAL;
    }
    if (m->to != 0 && m->to != r->cfg.me)
        return 0;
    int vote = m->kind == RAFT_PREVOTE || m->kind == RAFT_VOTE;
    int from_leader = m->kind == RAFT_APPEND || m->kind == RAFT_SNAPSHOT;
    if (m->term > r->term) {
        if (vote && in_lease(r)) {
            r->stats.votes_ignored++;
            return 0;
        }
        /* a prevote and a granted prevote answer carry a term not yet taken */
        if (m->kind != RAFT_PREVOTE && !(m->kind == RAFT_PREVOTE_RESP && m->ok))
            become_follower(r, m->term, from_leader ? m->from : 0);
    } else if (m->term < r->term) {
        r->stats.stale++;
        if (from_leader) /* tell the old leader this term (it steps down) */
            reply(r, RAFT_APPEND_RESP, m->from, r->term, r->last_index, 0);
        else if (m->kind == RAFT_PREVOTE)
            reply(r, RAFT_PREVOTE_RESP, m->from, r->term, 0, 0);
        return EK3_ESTALE;
    }
    switch ((raft_kind)m->kind) {
    case RAFT_PREVOTE:
    case RAFT_VOTE:
        handle_vote(r, m);
        break;
    case RAFT_PREVOTE_RESP:
    case RAFT_VOTE_RESP:
        handle_vote_resp(r, m);
        break;
    case RAFT_APPEND:
    case RAFT_SNAPSHOT:
        if (r->role != RAFT_FOLLOWER || r->leader != m->from)
            become_follower(r, r->term, m->from);
        r->leader_elapsed = 0;
        r->election_elapsed = 0;
        if (m->kind == RAFT_APPEND)
            handle_append(r, m);
        else
            handle_snapshot(r, m);
        break;
    case RAFT_APPEND_RESP:
        if (r->role == RAFT_LEADER)
            handle_append_resp(r, m);
        break;
    case RAFT_KIND_COUNT:
        break;
    }
    return 0;
}

int raft_propose(raft *r, const void *data, size_t n)
{
    if (!r || !data || n == 0)
        return EK3_EINVAL;
    if (n > RAFT_ENTRY_MAX)
        return EK3_ERANGE;
    if (r->role != RAFT_LEADER)
        return EK3_EPERM;
    if (r->last_term == r->term && r->last_index > r->commit)
        return EK3_EBUSY;
    int rc = append_local(r, r->term, data, (uint8_t)n);
    if (rc != 0)
        return rc;
    r->match[r->cfg.me] = r->last_index;
    r->next[r->cfg.me] = r->last_index + 1u;
    r->hb_elapsed = 0;
    broadcast_append(r);
    maybe_commit(r);
    return 0;
}

int raft_take(raft *r, raft_msg *out)
{
    if (!r || !out)
        return EK3_EINVAL;
    if (r->out_count == 0)
        return EK3_EAGAIN;
    *out = r->out[r->out_head];
    r->out_head = (uint8_t)((r->out_head + 1u) % RAFT_OUTBOX_CAP);
    r->out_count--;
    return 0;
}

int raft_take_committed(raft *r, raft_entry *e, uint32_t *index)
{
    if (!r || !e || !index)
        return EK3_EINVAL;
    if (r->applied < r->snap_index) {
        r->applied = r->snap_index;
        if (r->snap.len > 0) {
            *e = r->snap;
            *index = r->snap_index;
            return 0;
        }
    }
    while (r->applied < r->commit) {
        r->applied++;
        const raft_entry *x = slot(r, r->applied);
        if (x->len > 0) {
            *e = *x;
            *index = r->applied;
            return 0;
        }
    }
    return EK3_EAGAIN;
}

int raft_persist_needed(raft *r, uint32_t *term, uint16_t *voted_for)
{
    if (!r || !term || !voted_for)
        return EK3_EINVAL;
    if (!r->persist_dirty)
        return 0;
    r->persist_dirty = 0;
    *term = r->term;
    *voted_for = r->voted_for;
    return 1;
}

uint16_t raft_leader(const raft *r)
{
    return r ? r->leader : 0;
}

int raft_entry_at(const raft *r, uint32_t index, uint32_t *term, const raft_entry **e)
{
    if (!r)
        return EK3_EINVAL;
    if (index == 0 || index < r->snap_index || index > r->last_index)
        return EK3_ENOENT;
    const raft_entry *x = index == r->snap_index ? &r->snap : &r->log[index % RAFT_LOG_CAP];
    if (term)
        *term = index == r->snap_index ? r->snap_term : x->term;
    if (e)
        *e = x;
    return 0;
}
