// Package csvio imports a customer roster from CSV and exports it back
// (DESIGN §8). All SQL stays in package store; this package parses, checks
// and reports.
package csvio

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"frontdesk/store"
)

// ImportOptions tune Import.
type ImportOptions struct {
	// DryRun checks every row, against the roster too, and writes nothing.
	// The report says what the import would have done.
	DryRun bool
	// SkipInvalid imports the good rows and reports the bad ones as skipped;
	// without it one bad row stops the whole import.
	SkipInvalid bool
	// Update matches rows with customers already on the roster, by the id
	// column when the file has one and the row gives an id, else by email,
	// and updates them (see store.WriterUpdate: only the columns the file
	// has change, and never the email); rows that match nobody are added.
	// Without it a row whose email is on the roster is a problem.
	Update bool
	// Actor is recorded in the audit rows the import writes; the zero
	// Actor is recorded as the system.
	Actor store.Actor
	// Source names the file in messages ("customers.csv:12: …") and, as
	// its base name, in the audit rows.
	Source string
	// Progress, if set, is called every ProgressEvery rows and once at the
	// end with done == total. The file is streamed, so until the end total is
	// an estimate from the file's size (0 when the size is unknown, as with a
	// pipe); it is never below done.
	Progress func(done, total int)
}

// Problem is a row that cannot be imported, or the reason the file could not be
// read to the end.
type Problem struct {
	Line   int // 1-based physical line where the record starts
	Reason string
}

// Report is the outcome of Import.
type Report struct {
	Rows     int // data rows read (blank rows are not counted)
	Imported int // customers written (added or updated); in a dry run, those that would be
	Skipped  int // rows with problems (all of them, even past MaxProblems)
	Problems []Problem
	// Added, Updated and Unchanged divide the good rows: new customers,
	// customers on the roster changed by their row, and customers whose row
	// says what is stored already (Update only). In a dry run, what would be.
	Added, Updated, Unchanged int
	// Ignored are the columns the file has that Import does not read, as the
	// header names them: frontdesk's own (status and dates, written by
	// `customers export --with-status`; the id without Update).
	Ignored []string
}

// MaxProblems bounds Report.Problems, so a file that is wrong throughout (the
// wrong file, a different delimiter) costs a screenful, not a copy of itself.
const MaxProblems = 1000

// ProgressEvery is how many rows pass between Progress calls.
const ProgressEvery = 1000

func (r *Report) add(line int, reason string) {
	if len(r.Problems) < MaxProblems {
		r.Problems = append(r.Problems, Problem{Line: line, Reason: reason})
	}
}

// Known column names, as Export writes them.
const (
	colFirst = "first_name"
	colLast  = "last_name"
	colEmail = "email"
	colPhone = "phone"
	// The columns of `customers export --with-status`: the customer's id,
	// which Import --update matches rows by, and the status and its dates,
	// which Import never reads (they are the claim's history, not a value
	// to set).
	colID      = "id"
	colStatus  = "status"
	colInvited = "invited_at"
	colClaimed = "claimed_at"
)

// headerAliases is the one table of how people write the known columns'
// names, keyed by headerKey of the name: "First Name", "first name" and
// "FIRST_NAME" are all firstname. A name not here is a custom field. An
// organization's own custom field of the same name wins over an alias (not
// over the four names Import always knew): an import made before this table
// existed may have declared "Mobile" as a field, and its values stay there.
var headerAliases = map[string]string{
	"firstname": colFirst, "first": colFirst, "givenname": colFirst, "forename": colFirst, "christianname": colFirst,
	"lastname": colLast, "last": colLast, "surname": colLast, "familyname": colLast,
	"email": colEmail, "emailaddress": colEmail, "mail": colEmail,
	"phone": colPhone, "phonenumber": colPhone, "phoneno": colPhone, "telephone": colPhone, "telephonenumber": colPhone, "tel": colPhone,
	"mobile": colPhone, "mobilenumber": colPhone, "mobilephone": colPhone, "cell": colPhone, "cellphone": colPhone,
	"id": colID, "customerid": colID,
	"status": colStatus, "invitedat": colInvited, "invited": colInvited, "claimedat": colClaimed, "claimed": colClaimed,
}

// headerKey is a column name folded for headerAliases: lower case, without
// spaces, dashes, underscores and dots ("E-mail" → email).
func headerKey(h string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '_', '.', '\u00a0':
			return -1
		}
		return unicode.ToLower(r)
	}, h)
}

// columns is the header, resolved.
type columns struct {
	names                         []string // header text per column, trimmed
	first, last, email, phone, id int      // column index, -1 when absent (id: only read with Update)
	custom                        []int    // column indexes of custom fields
	fieldNames                    []string // field name per custom column
	ignored                       []string // header text of the columns not read
}

// errNothingToWrite rolls back a transaction in which no row was imported, so
// an all-skipped import leaves no trace, not even an audit row.
var errNothingToWrite = errors.New("nothing to import")

// Import reads a CSV roster from r and adds its customers to org in one
// transaction: either every good row is written (all rows, unless
// opt.SkipInvalid) together with one "customers.import" audit row, or nothing
// is.
//
// The header names the columns: first_name, last_name, email and phone (any
// case, spaces around them ignored); every other column is a custom field of
// that name. A row needs a first or a last name; the email may be empty, but if
// given it must be valid and belong to nobody else, in the file or on the
// roster. Custom values are stored exactly as written (an empty cell means no
// value), as the store does, so that an export imports back unchanged. In
// every cell, a leading single quote before = + - @ tab, CR or another quote
// is taken off: it is how Export keeps spreadsheets from running a value as
// a formula (see Export), and how a spreadsheet user marks one as text.
//
// The report is never nil. The error is an EINVALID *store.Error when the file
// as a whole is unusable (empty, no header, no name column, a bad column name,
// a line over MaxLine) and when rows have problems and opt.SkipInvalid is not
// set; the report then lists the problems and nothing has been written. Any
// other error (the database, reading r, ctx) is returned as it is, also with
// nothing written.
func Import(ctx context.Context, db *store.DB, org *store.Org, r io.Reader, opt ImportOptions) (*Report, error) {
	rep := &Report{}
	size := remaining(r)
	br := bufio.NewReaderSize(r, 64<<10)
	bom, err := sniff(br)
	if err != nil {
		return rep, &store.Error{Code: store.EINVALID, Message: prefix(opt.Source) + err.Error()}
	}
	lr := newLineReader(br)
	cr := csv.NewReader(lr)
	cr.FieldsPerRecord = -1 // counted here, with a better message
	cr.ReuseRecord = true

	existing, err := db.CustomFieldNames(ctx, org.ID)
	if err != nil {
		return rep, err
	}
	cols, err := readHeader(cr, lr, existing, opt.Source, opt.Update)
	if err != nil {
		return rep, err
	}
	rep.Ignored = cols.ignored
	im := &importer{
		ctx: ctx, db: db, org: org, opt: opt, rep: rep,
		cr: cr, lr: lr, cols: cols,
		size: size, bom: int64(bom),
		seen: map[string]int{}, seenID: map[int64]int{},
	}
	// The header is checked before the transaction opens so that a wrong
	// file never takes the write lock. A dry run reads one snapshot on the
	// reader pool and never takes it at all.
	if opt.DryRun {
		err = db.CheckCustomers(ctx, org.ID, func(w *store.CustomerWriter) error { return im.run(w, nil) })
	} else {
		err = db.Tx(ctx, func(tx *store.Tx) error { return im.run(tx.NewCustomerWriter(ctx, org.ID), tx) })
	}
	if errors.Is(err, errNothingToWrite) {
		err = nil
	}
	if err != nil {
		rep.Imported, rep.Added, rep.Updated, rep.Unchanged = 0, 0, 0, 0
	}
	return rep, err
}

// where is the place of a line in messages: "customers.csv:12", or "line
// 12" when the file has no name.
func where(src string, line int) string {
	if src == "" {
		return fmt.Sprintf("line %d", line)
	}
	return fmt.Sprintf("%s:%d", src, line)
}

// headerError is a problem of the header line.
func headerError(src string, line int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if src == "" {
		return store.Errorf(store.EINVALID, "line %d (the header): %s", line, msg)
	}
	return store.Errorf(store.EINVALID, "%s:%d: in the header, %s", src, line, msg)
}

// readHeader reads and resolves the header row.
func readHeader(cr *csv.Reader, lr *lineReader, existing []string, src string, update bool) (*columns, error) {
	lr.startRecord()
	rec, err := cr.Read()
	var le *limitError
	var pe *csv.ParseError
	switch {
	case errors.As(lr.err, &le):
		line, reason := le.problem()
		return nil, store.Errorf(store.EINVALID, "%s: %s", where(src, line), reason)
	case err == io.EOF:
		return nil, store.Errorf(store.EINVALID, "%sthe file is empty; its first line must name the columns, e.g. first_name,last_name,email,phone", prefix(src))
	case errors.As(err, &pe):
		return nil, headerError(src, pe.StartLine, "%s", parseReason(pe, ""))
	case err != nil:
		return nil, err
	}
	line, _ := cr.FieldPos(0)
	declared := map[string]bool{}
	for _, e := range existing {
		declared[strings.ToLower(e)] = true
	}
	c := &columns{first: -1, last: -1, email: -1, phone: -1, id: -1}
	seen := map[string]int{}
	known := map[string]int{} // known column → its column number
	for i, h := range rec {
		if i == 0 {
			// A second BOM (a file saved twice by a BOM-adding editor).
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = unquoteFormula(strings.TrimSpace(h))
		col := i + 1
		switch {
		case !utf8.ValidString(h):
			return nil, headerError(src, line, "column %d is not valid UTF-8 text; save the file as \"CSV UTF-8\"", col)
		case strings.IndexByte(h, 0) >= 0:
			return nil, headerError(src, line, "there is a NUL byte; the file may be UTF-16 or a spreadsheet rather than CSV text (save it as \"CSV UTF-8\")")
		case h == "":
			return nil, headerError(src, line, "column %d has no name; every column needs one (delete the column if it is not needed)", col)
		}
		// A column's name becomes a custom field's name, which staff read.
		if err := store.CheckText(fmt.Sprintf("the name of column %d", col), h, store.MaxFieldNameLen); err != nil {
			return nil, headerError(src, line, "%s", store.ErrorMessage(err))
		}
		key := strings.ToLower(h)
		if prev, dup := seen[key]; dup {
			return nil, headerError(src, line, "column %d, %s, repeats column %d; each column may appear once", col, printable(h), prev)
		}
		seen[key] = col
		c.names = append(c.names, h)
		kind := headerAliases[headerKey(h)]
		switch kind {
		case colFirst, colLast, colEmail, colPhone:
			if declared[key] && key != kind {
				kind = "" // the organization's own field of that name
			}
		case colID, colStatus, colInvited, colClaimed:
			if declared[key] {
				kind = ""
			}
		}
		if kind != "" {
			if prev, dup := known[kind]; dup {
				return nil, headerError(src, line, "column %d, %s, is a second %s column (column %d is %s); keep one, or rename the other to keep it as a custom field",
					col, printable(h), strings.ReplaceAll(kind, "_", " "), prev, printable(c.names[prev-1]))
			}
			known[kind] = col
		}
		switch kind {
		case colFirst:
			c.first = i
		case colLast:
			c.last = i
		case colEmail:
			c.email = i
		case colPhone:
			c.phone = i
		case colID:
			if update {
				c.id = i
			} else {
				c.ignored = append(c.ignored, h)
			}
		case colStatus, colInvited, colClaimed:
			c.ignored = append(c.ignored, h)
		default:
			c.custom = append(c.custom, i)
			c.fieldNames = append(c.fieldNames, fieldName(h, existing))
		}
	}
	// Adding needs a name. Updating can do with a column to match rows by
	// (a row that matches nobody still needs one: see store.WriterUpdate).
	if c.first < 0 && c.last < 0 && !(update && (c.id >= 0 || c.email >= 0)) {
		msg := "there is no first_name or last_name column; the first line must name the columns, e.g. first_name,last_name,email,phone"
		if update {
			msg = "there is no column to match customers by (id or email) and no first_name or last_name column; the first line must name the columns, e.g. email,phone"
		}
		if len(rec) == 1 && strings.ContainsAny(rec[0], ";\t") {
			msg += " (this file seems to separate columns with semicolons or tabs; save it as comma-separated \"CSV UTF-8\")"
		}
		return nil, headerError(src, line, "%s", msg)
	}
	return c, nil
}

// prefix is "customers.csv: " for messages about the whole file.
func prefix(src string) string {
	if src == "" {
		return ""
	}
	return src + ": "
}

// fieldName reuses the organization's spelling of a custom field the header
// names in another case ("level" for "Level"), rather than declaring a second
// field that differs only in case.
func fieldName(h string, existing []string) string {
	for _, e := range existing {
		if e == h {
			return e
		}
	}
	for _, e := range existing {
		if strings.EqualFold(e, h) {
			return e
		}
	}
	return h
}

type importer struct {
	ctx  context.Context
	db   *store.DB
	org  *store.Org
	opt  ImportOptions
	rep  *Report
	cr   *csv.Reader
	lr   *lineReader
	cols *columns
	size int64 // bytes r had, BOM included; 0 if unknown
	bom  int64

	w      *store.CustomerWriter
	seen   map[string]int // store.FoldEmail(email) → line of its first row
	seenID map[int64]int  // Update: customer id → line of its first row
}

// run reads every row after the header and hands the good ones to w. It
// writes when w is a transaction's writer (tx is that transaction, for the
// audit row), and only looks things up when w is a checker (dry run, tx nil).
func (im *importer) run(w *store.CustomerWriter, tx *store.Tx) error {
	im.w = w
	actor := im.opt.Actor
	if actor.Kind == "" {
		actor = store.SystemActor("csv import")
	}
	if im.opt.Update {
		c := im.cols
		w.Update = &store.WriterUpdate{FirstName: c.first >= 0, LastName: c.last >= 0, Email: c.email >= 0, Phone: c.phone >= 0,
			Actor: actor, Source: im.source()}
	}
	cust := store.Customer{OrgID: im.org.ID}
	fields := make([]store.Field, len(im.cols.custom))
	for {
		if im.rep.Rows%ProgressEvery == 0 {
			if err := im.ctx.Err(); err != nil {
				return err
			}
		}
		im.lr.startRecord()
		rec, err := im.cr.Read()
		var le *limitError
		var pe *csv.ParseError
		if errors.As(im.lr.err, &le) {
			line, reason := le.problem()
			im.rep.add(line, reason)
			return store.Errorf(store.EINVALID, "%s: %s; nothing was imported", where(im.opt.Source, line), reason)
		} else if err == io.EOF {
			break
		} else if errors.As(err, &pe) {
			im.rep.Rows++
			im.bad(pe.StartLine, parseReason(pe, im.cols.namesAt(len(rec))))
			im.progress()
			continue
		} else if err != nil {
			return fmt.Errorf("reading the CSV file: %w", err)
		}
		if blank(rec) {
			continue
		}
		im.rep.Rows++
		line, _ := im.cr.FieldPos(0)
		reasons, err := im.row(rec, line, &cust, fields)
		if err != nil {
			return err
		}
		if len(reasons) > 0 {
			im.bad(line, strings.Join(reasons, "; "))
		}
		im.progress()
	}
	conflicts, err := w.Flush(im.ctx)
	if err != nil {
		return err
	}
	im.conflicts(conflicts)
	// Conflicts are found a batch late; the report reads in file order.
	sort.SliceStable(im.rep.Problems, func(i, j int) bool { return im.rep.Problems[i].Line < im.rep.Problems[j].Line })
	if im.opt.Progress != nil {
		im.opt.Progress(im.rep.Rows, im.rep.Rows)
	}
	if im.rep.Skipped > 0 && !im.opt.SkipInvalid {
		return im.refusal()
	}
	im.rep.Added, im.rep.Updated, im.rep.Unchanged = w.Added, w.Updated, w.Unchanged
	im.rep.Imported = w.Added + w.Updated
	if im.opt.DryRun {
		return nil
	}
	if im.rep.Imported == 0 {
		return errNothingToWrite
	}
	return tx.Audit(im.ctx, im.org.ID, actor, "customers.import", 0, im.auditDetail())
}

// row checks one record and, while writing, adds it. It returns the row's
// problems; err is for failures that end the import.
func (im *importer) row(rec []string, line int, c *store.Customer, fields []store.Field) (reasons []string, err error) {
	cols := im.cols
	// These three make the other checks meaningless (the columns do not line
	// up, or the text is not text), so they are reported alone.
	for _, f := range rec {
		if strings.IndexByte(f, 0) >= 0 {
			return []string{"contains a NUL byte; the file may be UTF-16 or a spreadsheet rather than CSV text (save it as \"CSV UTF-8\")"}, nil
		}
	}
	if len(rec) != len(cols.names) {
		return []string{fmt.Sprintf("has %d %s but the header has %d; look for a missing or extra comma, or a value with a comma that is not in quotes",
			len(rec), plural(len(rec), "value", "values"), len(cols.names))}, nil
	}
	for i, f := range rec {
		if !utf8.ValidString(f) {
			return []string{fmt.Sprintf("the %s value is not valid UTF-8 text; save the file as \"CSV UTF-8\"", printable(cols.names[i]))}, nil
		}
	}

	get := func(i int) string {
		if i < 0 {
			return ""
		}
		return unquoteFormula(strings.TrimSpace(rec[i]))
	}
	*c = store.Customer{OrgID: im.org.ID, FirstName: get(cols.first), LastName: get(cols.last), Email: get(cols.email), Phone: get(cols.phone)}
	if im.opt.Update {
		// Whether the row needs a name depends on whom it matches: the
		// writer says (store.ConflictNoName).
		reasons = append(reasons, im.matchKey(get(cols.id), line, c)...)
	} else if c.FirstName == "" && c.LastName == "" {
		reasons = append(reasons, "has no first or last name")
	}
	// The one text rule, cell by cell, labelled with the column's name as
	// the file spells it. Customer text is printed in staff terminals: an
	// escape sequence could rewrite the screen, an invisible character makes
	// a lookalike. The TUI also prints it inert, but a name has no business
	// holding either.
	check := func(i int, err error) {
		if i >= 0 && err != nil {
			reasons = append(reasons, store.ErrorMessage(err))
		}
	}
	check(cols.first, store.CheckText(cols.namesAt(cols.first), c.FirstName, store.MaxNameLen))
	check(cols.last, store.CheckText(cols.namesAt(cols.last), c.LastName, store.MaxNameLen))
	check(cols.phone, store.CheckText(cols.namesAt(cols.phone), c.Phone, store.MaxPhoneLen))
	for k, i := range cols.custom {
		fields[k] = store.Field{Name: cols.fieldNames[k], Value: unquoteFormula(rec[i])}
		check(i, store.CheckLines(cols.names[i], fields[k].Value, store.MaxFieldLen))
	}
	c.Fields = fields
	emailOK := false
	if c.Email != "" {
		if err := store.ValidateEmail(c.Email); err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %s", store.ErrorMessage(err), strconv.Quote(c.Email)))
		} else if first, dup := im.seen[store.FoldEmail(c.Email)]; dup {
			reasons = append(reasons, fmt.Sprintf("email %s is also on line %d", printable(c.Email), first))
		} else {
			// Recorded even when the row has other problems, so that fixing
			// the file takes one round, not two.
			im.seen[store.FoldEmail(c.Email)] = line
			emailOK = true
		}
	}

	if len(reasons) == 0 {
		conflicts, err := im.w.Add(im.ctx, c, line)
		if err != nil {
			return nil, err
		}
		im.conflicts(conflicts)
		return nil, nil
	}
	if emailOK && !im.opt.Update {
		owner, err := im.w.EmailOwner(im.ctx, c.Email)
		if err != nil {
			return nil, err
		}
		if owner != nil {
			reasons = append(reasons, ownerReason(c.Email, owner))
		}
	}
	return reasons, nil
}

// matchKey reads the id cell of a row of an update (c.ID) and checks that
// the row has something to match a customer by.
func (im *importer) matchKey(cell string, line int, c *store.Customer) []string {
	if cell != "" {
		id, err := strconv.ParseInt(cell, 10, 64)
		if err != nil || id <= 0 {
			return []string{fmt.Sprintf("the id %s is not a customer id (a whole number, as `customers export --with-status` writes it); leave it empty for a new customer", strconv.Quote(cell))}
		}
		if first, dup := im.seenID[id]; dup {
			return []string{fmt.Sprintf("customer id %d is also on line %d; keep one row per customer", id, first)}
		}
		im.seenID[id] = line
		c.ID = id
		return nil
	}
	if c.Email == "" && im.cols.id < 0 {
		// Without an id column the file cannot say whether an email-less
		// row is someone on the roster or someone new, and taking it as
		// new would add a second of everyone without an email each time
		// an export is imported back.
		return []string{"has no email to match a customer by; with --update, give each row the customer's email or an id column (`customers export --with-status` writes one, empty for new customers)"}
	}
	return nil
}

// conflicts turns the queued rows the roster refuses into problems.
func (im *importer) conflicts(cs []store.Conflict) {
	for _, c := range cs {
		im.bad(c.Ref, conflictReason(c))
	}
}

// conflictReason words why the roster refused a row.
func conflictReason(c store.Conflict) string {
	switch c.Kind {
	case store.ConflictArchived:
		return fmt.Sprintf("matches %s, who is archived; restore the customer first, or leave the row out", ownerName(c.Owner))
	case store.ConflictNoCustomer:
		return fmt.Sprintf("no customer of this organization has id %d; leave the id empty to add a new customer", c.ID)
	case store.ConflictEmailChange:
		old := printable(c.Owner.Email)
		if old == "" {
			old = "none"
		}
		email := printable(c.Email)
		if email == "" {
			email = "empty"
		}
		return fmt.Sprintf("the email (%s) is not the email of customer %d, %s (%s); import does not change emails: change it in the TUI (e on the profile), which cancels links sent to the old address and tells a customer who has claimed, then import again",
			email, c.Owner.ID, ownerName(c.Owner), old)
	case store.ConflictNoName:
		if c.Owner == nil {
			return "has no first or last name"
		}
		return fmt.Sprintf("would leave customer %d without a first or last name", c.Owner.ID)
	case store.ConflictMatchedTwice:
		return fmt.Sprintf("matches %s, whom line %d already updates; keep one row per customer", ownerName(c.Owner), c.Other)
	}
	return ownerReason(c.Email, c.Owner)
}

// ownerName names a customer on the roster in a problem.
func ownerName(owner *store.Customer) string {
	name := printable(owner.Name())
	if name == "" {
		name = fmt.Sprintf("customer %d", owner.ID)
	}
	return name
}

// ownerReason names the customer on the roster who already has email.
func ownerReason(email string, owner *store.Customer) string {
	name := ownerName(owner)
	if owner.Archived {
		name += " (archived)"
	}
	return fmt.Sprintf("email %s already belongs to %s", printable(email), name)
}

// bad records a row with problems. Without SkipInvalid the import is doomed
// from here: later rows are still checked, so that one run reports every
// problem, but no longer written.
func (im *importer) bad(line int, reason string) {
	im.rep.Skipped++
	im.rep.add(line, reason)
	if !im.opt.SkipInvalid {
		// Rows already written roll back with the transaction; what is
		// still queued needs checking, not writing.
		im.w.CheckOnly = true
	}
}

func (im *importer) progress() {
	if im.opt.Progress == nil || im.rep.Rows%ProgressEvery != 0 {
		return
	}
	total := 0
	if read := im.lr.consumed + im.bom; im.size > 0 && read > 0 {
		total = max(int(float64(im.rep.Rows)*float64(im.size)/float64(read)), im.rep.Rows)
	}
	im.opt.Progress(im.rep.Rows, total)
}

func (im *importer) refusal() error {
	verb := "nothing was imported"
	if im.opt.DryRun {
		verb = "the import would be refused"
	}
	first := ""
	if len(im.rep.Problems) > 0 {
		p := im.rep.Problems[0]
		first = fmt.Sprintf(" (first: %s: %s)", where(im.opt.Source, p.Line), p.Reason)
	}
	return store.Errorf(store.EINVALID, "%d of %d %s %s%s, so %s; fix %s, or use --skip-invalid to import the good rows only",
		im.rep.Skipped, im.rep.Rows, plural(im.rep.Rows, "row", "rows"), plural(im.rep.Skipped, "has a problem", "have problems"), first,
		verb, plural(im.rep.Skipped, "it", "them"))
}

// source is the file's base name for the audit rows.
func (im *importer) source() string {
	if im.opt.Source == "" {
		return "a CSV file"
	}
	return printable(filepath.Base(im.opt.Source))
}

func (im *importer) auditDetail() string {
	r := im.rep
	d := fmt.Sprintf("imported %d %s from %s", r.Added, plural(r.Added, "customer", "customers"), im.source())
	if im.opt.Update {
		d = fmt.Sprintf("imported %s with --update: %d added, %d updated, %d unchanged", im.source(), r.Added, r.Updated, r.Unchanged)
	}
	if im.rep.Skipped > 0 {
		d += fmt.Sprintf(" (%d %s skipped)", im.rep.Skipped, plural(im.rep.Skipped, "row", "rows"))
	}
	return d
}

// namesAt is the header name of column i, "" past the end; for saying where
// a parse error is.
func (c *columns) namesAt(i int) string {
	if c == nil || i < 0 || i >= len(c.names) {
		return ""
	}
	return c.names[i]
}

// parseReason puts an encoding/csv error into plain words. col is the column
// the error is in, when known: csv.Reader returns the fields it finished
// before the bad one.
func parseReason(pe *csv.ParseError, col string) string {
	in := ""
	if col != "" {
		in = " in the " + printable(col) + " column"
	}
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf("a quote (\") appears%s inside a value that does not start with one; put the whole value in quotes and double each quote inside it (\"\")", in)
	case errors.Is(pe.Err, csv.ErrQuote):
		s := fmt.Sprintf("a quoted value%s is not closed properly: after the closing quote must come a comma or the end of the line, and a quote inside the value must be doubled (\"\")", in)
		if pe.Line > pe.StartLine {
			s += fmt.Sprintf("; the value runs on to line %d, so a closing quote is probably missing", pe.Line)
		}
		return s
	}
	return pe.Err.Error()
}

// blank reports a row with nothing in it, as spreadsheets leave below the
// data (",,,"); such rows are not customers, nor problems.
func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// printable returns s as is when every rune prints, and Go-quoted otherwise,
// so that a message never carries an escape sequence to a terminal.
func printable(s string) string {
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
