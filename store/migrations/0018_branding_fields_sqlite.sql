-- The customer's first minutes (issue 14): the organization's look on the
-- customers' pages and in its emails, custom fields staff keep, and the
-- customers' own requests for a new invite link.

-- The accent colour, '#rrggbb' or '' for the site's own (its contrast is
-- checked before it is saved: store/brand), and the logo's description.
-- The logo's bytes live in org_logos so that reading an organization (every
-- page, every email) does not read them; logo_hash is the hex SHA-256 of
-- those bytes, the content hash in the logo's address, '' for no logo.
ALTER TABLE orgs ADD COLUMN accent TEXT NOT NULL DEFAULT '';
ALTER TABLE orgs ADD COLUMN logo_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE orgs ADD COLUMN logo_type TEXT NOT NULL DEFAULT '' CHECK (logo_type IN ('', 'image/png', 'image/jpeg'));
ALTER TABLE orgs ADD COLUMN logo_width INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN logo_height INTEGER NOT NULL DEFAULT 0;

CREATE TABLE org_logos (
    org_id INTEGER PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
    data   BLOB NOT NULL CHECK (length(data) BETWEEN 1 AND 262144)
) STRICT;

-- Whether the customer may change a custom field's value on their account
-- page. 0, staff-only, is the default for every field, those that exist now
-- included: they were created by imports, where a studio keeps what it
-- knows of its customers (a membership level, notes), and a customer
-- rewriting them would go unnoticed. An owner opens a field with
-- `frontdesk org field set NAME --customer-editable`.
ALTER TABLE custom_fields ADD COLUMN customer_editable INTEGER NOT NULL DEFAULT 0 CHECK (customer_editable IN (0, 1));

-- "Send me a new link" from the page of a dead invite link issues a claim
-- invite with no staff creator (created_by NULL, reminder_of NULL). The
-- limit per mailbox counts them by address across organizations, as
-- invites_reset_email does for reset links.
CREATE INDEX invites_renew_email ON invites (lower(email), created_at) WHERE purpose = 'claim' AND created_by IS NULL;
