package csvio

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"frontdesk/store"
)

// Export writes org's live (unarchived) customers to w as CSV, in id order,
// and returns how many it wrote. The header is
// first_name,last_name,email,phone followed by the custom fields in the
// organization's order; Import reads the file back to the same customers,
// so an export moves a roster to another organization or database.
//
// Customers write their own names, phone and custom fields, and a
// spreadsheet runs a cell that starts with = + - @ tab or CR as a formula
// (CSV injection: =HYPERLINK(…) sends whoever clicks it, with the cells it
// names, to another site). As OWASP advises, such a cell is written behind a
// single quote, which spreadsheets show as text; a cell that already starts
// with a quote gets one more, so that Import, which takes exactly one quote
// off before a quote or one of those characters, reads every value back as
// it was stored. Column names are cells too.
//
// With opt.WithStatus, the customer's id comes first and the status, the
// date of the latest live invite and the date the account was claimed come
// last (id,first_name,…,status,invited_at,claimed_at): what someone
// working through a roster in a spreadsheet wants to see. Import ignores
// those three columns, and Import --update matches rows by the id, so such
// an export imports back over the roster unchanged.
//
// The roster is read a page at a time (store.ExportCustomers), never whole.
func Export(ctx context.Context, db *store.DB, org *store.Org, w io.Writer, opt ExportOptions) (int, error) {
	cw := csv.NewWriter(w)
	var rec []string
	n, off := 0, 0
	if opt.WithStatus {
		off = 1
	}
	loc := org.Location()
	err := db.ExportCustomers(ctx, org.ID, func(names []string) error {
		if opt.WithStatus {
			rec = append(rec, colID)
		}
		rec = append(rec, colFirst, colLast, colEmail, colPhone)
		rec = append(rec, names...)
		if opt.WithStatus {
			rec = append(rec, colStatus, colInvited, colClaimed)
		}
		for i := range rec {
			rec[i] = quoteFormula(rec[i])
		}
		return cw.Write(rec)
	}, func(c *store.ExportRow) error {
		if opt.WithStatus {
			rec[0] = strconv.FormatInt(c.ID, 10)
			end := len(rec) - 3
			rec[end], rec[end+1], rec[end+2] = c.Status.Label(), exportTime(c.InvitedAt, loc), exportTime(c.ClaimedAt, loc)
		}
		rec[off], rec[off+1], rec[off+2], rec[off+3] = quoteFormula(c.FirstName), quoteFormula(c.LastName), quoteFormula(c.Email), quoteFormula(c.Phone)
		for i, v := range c.Values {
			rec[off+4+i] = quoteFormula(v)
		}
		n++
		return cw.Write(rec)
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return n, err
}

// ExportOptions tune Export.
type ExportOptions struct {
	// WithStatus adds the id, the status, and the invited and claimed dates.
	WithStatus bool
}

// exportTime is a date as the export writes it: in the organization's time
// zone, to the minute, in the one form every spreadsheet reads as a date
// ("2026-11-23 14:05"); empty when there is none.
func exportTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// formulaStart holds the first characters that make a spreadsheet read a
// cell as a formula (OWASP's list for CSV injection), and the quote that
// escapes them.
const formulaStart = "=+-@\t\r'"

// quoteFormula is a cell as Export writes it: behind a single quote when it
// starts with a formula character or a quote.
func quoteFormula(v string) string {
	if v != "" && strings.IndexByte(formulaStart, v[0]) >= 0 {
		return "'" + v
	}
	return v
}

// unquoteFormula undoes quoteFormula when Import reads a cell: one leading
// quote comes off only before a formula character or another quote, so a
// value that merely begins with an apostrophe ('til) is kept as it is.
func unquoteFormula(v string) string {
	if len(v) >= 2 && v[0] == '\'' && strings.IndexByte(formulaStart, v[1]) >= 0 {
		return v[1:]
	}
	return v
}
