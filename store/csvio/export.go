package csvio

import (
	"context"
	"encoding/csv"
	"io"

	"frontdesk/store"
)

// Export writes org's live (unarchived) customers to w as CSV, in id order,
// and returns how many it wrote. The header is
// first_name,last_name,email,phone followed by the custom fields in the
// organization's order; Import reads the file back to the same customers,
// so an export moves a roster to another organization or database.
//
// Values are written exactly as stored. A spreadsheet would run a value that
// starts with = + - or @ as a formula (CSV injection), and the usual defence,
// prefixing a quote, would change what Import reads back. The file is for
// re-import; whoever opens it in a spreadsheet should import it as text.
//
// The roster is read a page at a time (store.ExportCustomers), never whole.
func Export(ctx context.Context, db *store.DB, org *store.Org, w io.Writer) (int, error) {
	cw := csv.NewWriter(w)
	var rec []string
	n := 0
	err := db.ExportCustomers(ctx, org.ID, func(names []string) error {
		rec = append([]string{colFirst, colLast, colEmail, colPhone}, names...)
		return cw.Write(rec)
	}, func(c *store.ExportRow) error {
		rec[0], rec[1], rec[2], rec[3] = c.FirstName, c.LastName, c.Email, c.Phone
		copy(rec[4:], c.Values)
		n++
		return cw.Write(rec)
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return n, err
}
