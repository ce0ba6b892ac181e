-- frontdesk schema, version 1. Times are Unix seconds (UTC).

CREATE TABLE orgs (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL CHECK (name <> ''),
    slug                TEXT NOT NULL UNIQUE CHECK (slug <> ''),
    invite_ttl_seconds  INTEGER NOT NULL DEFAULT 604800 CHECK (invite_ttl_seconds > 0),
    walkthrough_url     TEXT NOT NULL DEFAULT '',
    payments_url        TEXT NOT NULL DEFAULT '',
    reply_to            TEXT NOT NULL DEFAULT '',
    time_zone           TEXT NOT NULL DEFAULT 'UTC',
    min_password_length INTEGER NOT NULL DEFAULT 15 CHECK (min_password_length BETWEEN 8 AND 64),
    notifications       INTEGER NOT NULL DEFAULT 1 CHECK (notifications IN (0, 1)),
    created_at          INTEGER NOT NULL
) STRICT;

-- Staff are soft-deleted (removed_at) so invites and audit rows keep saying who
-- acted.
CREATE TABLE staff (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs (id),
    email      TEXT NOT NULL CHECK (email <> ''),
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'staff')),
    created_at INTEGER NOT NULL,
    removed_at INTEGER
) STRICT;
CREATE UNIQUE INDEX staff_email ON staff (lower(email)) WHERE removed_at IS NULL;
CREATE INDEX staff_org ON staff (org_id);

CREATE TABLE staff_keys (
    id          INTEGER PRIMARY KEY,
    staff_id    INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    public_key  TEXT NOT NULL,      -- authorized_keys form: "ssh-ed25519 AAAA... comment"
    fingerprint TEXT NOT NULL UNIQUE, -- SHA256:...
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX staff_keys_staff ON staff_keys (staff_id);

-- state is derived from claimed_at, email and the latest live claim invite; the
-- store keeps it current (refreshState) so the roster can filter and count by
-- status through an index instead of joining invites for every row.
--   claimed | no_email | failed (delivery failed) | pending (invited or expired,
--   decided by invite_expires_at at read time) | none (not invited)
CREATE TABLE customers (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES orgs (id),
    first_name        TEXT NOT NULL DEFAULT '',
    last_name         TEXT NOT NULL DEFAULT '',
    sort_name         TEXT NOT NULL DEFAULT '',
    email             TEXT NOT NULL DEFAULT '',
    phone             TEXT NOT NULL DEFAULT '',
    phone_keys        TEXT NOT NULL DEFAULT '', -- the phone as searched: see PhoneKeys
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    claimed_at        INTEGER,
    password_hash     TEXT NOT NULL DEFAULT '',
    archived          INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    state             TEXT NOT NULL DEFAULT 'none' CHECK (state IN ('claimed', 'no_email', 'failed', 'pending', 'none')),
    invite_sent_at    INTEGER,
    invite_expires_at INTEGER
) STRICT;
CREATE UNIQUE INDEX customers_email ON customers (org_id, lower(email)) WHERE email <> '';
CREATE INDEX customers_roster ON customers (org_id, archived, sort_name, id);
CREATE INDEX customers_state ON customers (org_id, archived, state, sort_name, id);
-- Counts per status and the invited/expired split read only this index.
CREATE INDEX customers_expiry ON customers (org_id, archived, state, invite_expires_at);

-- Custom fields are declared per organization (so export knows its columns
-- without scanning every value) and valued per customer.
CREATE TABLE custom_fields (
    id       INTEGER PRIMARY KEY,
    org_id   INTEGER NOT NULL REFERENCES orgs (id),
    name     TEXT NOT NULL CHECK (name <> ''),
    position INTEGER NOT NULL,
    UNIQUE (org_id, name)
) STRICT;

CREATE TABLE custom_field_values (
    customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    field_id    INTEGER NOT NULL REFERENCES custom_fields (id) ON DELETE CASCADE,
    value       TEXT NOT NULL,
    PRIMARY KEY (customer_id, field_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE bookings (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('appointment', 'class', 'event')),
    title       TEXT NOT NULL,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('booked', 'attended', 'cancelled', 'no_show'))
) STRICT;
CREATE INDEX bookings_customer ON bookings (customer_id, starts_at);

CREATE TABLE payments (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    amount_cents INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    description  TEXT NOT NULL,
    paid_at      INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('paid', 'refunded', 'failed', 'pending'))
) STRICT;
CREATE INDEX payments_customer ON payments (customer_id, paid_at);

CREATE TABLE subscriptions (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    plan        TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    interval    TEXT NOT NULL CHECK (interval IN ('week', 'month', 'year')),
    status      TEXT NOT NULL CHECK (status IN ('active', 'paused', 'past_due', 'cancelled')),
    started_at  INTEGER NOT NULL,
    renews_at   INTEGER,
    ended_at    INTEGER
) STRICT;
CREATE INDEX subscriptions_customer ON subscriptions (customer_id);

-- Outbox: every email is first a row here, written in the same transaction as
-- the change that caused it; a worker delivers it. body_* are cleared once sent
-- (they carry the token); the metadata stays.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs (id),
    kind            TEXT NOT NULL CHECK (kind IN ('invite', 'reset')),
    to_addr         TEXT NOT NULL,
    from_name       TEXT NOT NULL DEFAULT '',
    reply_to        TEXT NOT NULL DEFAULT '',
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL DEFAULT '',
    body_html       TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    message_id      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
) STRICT;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE invites (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES orgs (id),
    customer_id   INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    purpose       TEXT NOT NULL CHECK (purpose IN ('claim', 'reset')),
    token_hash    BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    email         TEXT NOT NULL,  -- the address the link was sent to
    created_by    INTEGER REFERENCES staff (id),  -- NULL when the customer asked (reset)
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER,
    revoked_at    INTEGER,
    revoke_reason TEXT NOT NULL DEFAULT '' CHECK (revoke_reason IN ('', 'superseded', 'email_changed', 'claimed', 'password_changed', 'archived')),
    outbox_id     INTEGER REFERENCES outbox (id)
) STRICT;
CREATE INDEX invites_customer ON invites (customer_id, purpose, id);

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs (id),
    actor_kind  TEXT NOT NULL CHECK (actor_kind IN ('staff', 'customer', 'system')),
    actor_id    INTEGER,
    actor_name  TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers (id) ON DELETE SET NULL,
    detail      TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX audit_org ON audit (org_id, id);
CREATE INDEX audit_customer ON audit (customer_id, id);
