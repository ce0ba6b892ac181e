package store

import "context"

// RefreshOrgState recomputes the state columns of every customer of the
// organization, for tests outside the package (the demo's, in
// demo_state_test.go) that compare stored states with refreshState's.
func (tx *Tx) RefreshOrgState(ctx context.Context, orgID int64) error {
	return tx.refreshState(ctx, "org_id = ?", orgID)
}
