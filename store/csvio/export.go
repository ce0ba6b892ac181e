package csvio

import (
	"context"
	"encoding/csv"
	"io"
	"strings"

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
// The roster is read a page at a time (store.ExportCustomers), never whole.
func Export(ctx context.Context, db *store.DB, org *store.Org, w io.Writer) (int, error) {
	cw := csv.NewWriter(w)
	var rec []string
	n := 0
	err := db.ExportCustomers(ctx, org.ID, func(names []string) error {
		rec = append([]string{colFirst, colLast, colEmail, colPhone}, names...)
		for i := range rec {
			rec[i] = quoteFormula(rec[i])
		}
		return cw.Write(rec)
	}, func(c *store.ExportRow) error {
		rec[0], rec[1], rec[2], rec[3] = quoteFormula(c.FirstName), quoteFormula(c.LastName), quoteFormula(c.Email), quoteFormula(c.Phone)
		for i, v := range c.Values {
			rec[4+i] = quoteFormula(v)
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
