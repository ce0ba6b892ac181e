package tui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/tui/inert"
)

// fieldNamesMsg is the organization's custom fields, for the form's inputs.
type fieldNamesMsg struct {
	names []string
	err   error
}

// customerSavedMsg is what the invite service made of the form.
type customerSavedMsg struct {
	added *store.Customer     // add
	edit  *claim.CustomerEdit // edit
	email emailSavedMsg       // edit: the email change and its notices
	err   error
}

// formInput is one value of the customer form other than the email, which
// the email editor's parts handle (see customerForm.email).
type formInput struct {
	key     string // claim.KeyFirstName …, claim.FieldKey(i)
	label   string // as shown: "First name", a custom field's name
	input   textinput.Model
	initial string // the value the form opened with
	// locked says why the value is not edited here: a custom field whose
	// value has several lines (a one-line input would join them), shown
	// as its first line, preview.
	locked, preview string
	err             string // why the value is refused, "" when it is not
}

func (in *formInput) value() string { return in.input.Value() }

func (in *formInput) changed() bool { return in.locked == "" && in.value() != in.initial }

// emailAt is the place of the email among the form's values, between the
// names and the phone.
const emailAt = 2

// customerForm adds a customer (a walk-in at the desk: a from the roster)
// or edits one (E on a profile): names, email, phone and the
// organization's custom fields. It checks each value as it is typed with
// the invite rules' own checks (claim.CheckValue), the email as the email
// editor does (it uses the editor's parts: the live check, the typo and
// DNS warnings, the warning of what a new address cancels, and the words
// after saving), and saves through the invite service, which checks it
// all again, finds an address another customer has, and audits.
type customerForm struct {
	c    *Common
	deps Deps
	edit bool
	cust store.Customer // as the profile showed it; zero when adding

	inputs []formInput // first name, last name, phone, custom fields
	email  *emailScreen
	focus  int // 0..len(inputs): emailAt is the email

	loading  bool // the custom fields are on their way
	saving   bool
	tried    bool // a save was asked for: a missing name is worth saying
	emailErr string
	err      note
	w, h     int
}

// newCustomerForm opens the form for a new customer (p nil) or to edit the
// customer of profile p.
func newCustomerForm(c *Common, deps Deps, p *store.Profile) *customerForm {
	f := &customerForm{c: c, deps: deps, loading: true, w: c.Width, h: c.Height}
	if p == nil {
		p = &store.Profile{}
	} else {
		f.edit, f.cust = true, p.Customer
	}
	f.email = newEmailEditor(c, deps, p)
	f.email.input.Blur()
	// An example address in an empty field reads as a value in a form.
	f.email.input.Placeholder = ""
	f.inputs = []formInput{
		f.newInput(claim.KeyFirstName, "First name", f.cust.FirstName, store.MaxNameLen),
		f.newInput(claim.KeyLastName, "Last name", f.cust.LastName, store.MaxNameLen),
		f.newInput(claim.KeyPhone, "Phone", f.cust.Phone, store.MaxPhoneLen),
	}
	f.inputs[0].input.Focus()
	return f
}

func (f *customerForm) newInput(key, label, value string, max int) formInput {
	in := formInput{key: key, label: label, input: f.c.Styles.TextInput()}
	in.input.Prompt = "> "
	// Room past the limit, so that the check says what is too long
	// rather than the input swallowing keys without a word.
	in.input.CharLimit = 2 * max
	// Stored text an old import let through is shown escaped, as in the
	// email editor: staff see what is wrong, and a value they leave alone
	// is not saved (changed compares with what the form showed).
	in.input.SetValue(inert.String(value))
	in.initial = in.input.Value()
	in.input.CursorEnd()
	return in
}

// Init reads the organization's custom fields and checks the address the
// form opens with.
func (f *customerForm) Init() tea.Cmd {
	ctx, org, roster := f.c.Ctx, f.c.Org.ID, f.deps.Roster
	return tea.Batch(func() tea.Msg {
		names, err := roster.CustomFieldNames(ctx, org)
		return fieldNamesMsg{names, err}
	}, f.email.Init())
}

func (f *customerForm) busy() bool   { return f.loading || f.saving }
func (f *customerForm) Note() note   { return f.err }
func (f *customerForm) Typing() bool { return true }

// helpKey changes with the suggestion, which the short help names.
func (f *customerForm) helpKey() string {
	if f.focus == emailAt {
		return f.email.helpKey()
	}
	return ""
}

func (f *customerForm) ShortHelp() []key.Binding {
	k := f.c.KeyMap
	keys := []key.Binding{k.Save, k.NextField, with(k.ClearInput, "cancel"), k.ForceQuit}
	if f.focus == emailAt && f.email.addr.suggestion() != "" {
		keys = append([]key.Binding{with(k.Suggest, "use "+inert.String(f.email.addr.typo.Suggested))}, keys...)
	}
	return keys
}

func (f *customerForm) FullHelp() [][]key.Binding {
	k := f.c.KeyMap
	return [][]key.Binding{{with(k.Save, "save"), with(k.NextField, "next field"), with(k.PrevField, "previous field"),
		with(k.ClearInput, "cancel, change nothing"), with(k.Suggest, "on the email: use the address a typo warning suggests")}}
}

func (f *customerForm) SetSize(w, h int) {
	f.w, f.h = w, h
	iw := max(w-f.labelWidth()-4, 10)
	for i := range f.inputs {
		f.inputs[i].input.Width = iw
	}
	f.email.SetSize(w, h)
	f.email.input.Width = iw
}

// labelWidth fits the longest label, as the profile does.
func (f *customerForm) labelWidth() int {
	lw := labelW
	for _, in := range f.inputs {
		lw = max(lw, min(ansiWidth(inert.String(in.label))+2, 24))
	}
	return min(lw, max(f.w/3, 1))
}

// items is how many values the form has, the email included.
func (f *customerForm) items() int { return len(f.inputs) + 1 }

// at is the input at form position i (not the email's).
func (f *customerForm) at(i int) *formInput {
	if i > emailAt {
		i--
	}
	return &f.inputs[i]
}

func (f *customerForm) Update(msg tea.Msg) tea.Cmd {
	k := f.c.KeyMap
	switch msg := msg.(type) {
	case fieldNamesMsg:
		f.loading = false
		if msg.err != nil {
			f.err = note{"Could not read the custom fields: " + say(msg.err), toneError}
			return nil
		}
		f.addFields(msg.names)
		f.SetSize(f.w, f.h)
	case addressCheckedMsg:
		return f.email.addr.answered(msg)
	case customerSavedMsg:
		f.saving = false
		return f.saved(msg)
	case tea.KeyMsg:
		if f.saving {
			return nil
		}
		switch {
		case key.Matches(msg, k.Save):
			return f.save()
		case key.Matches(msg, k.ClearInput):
			text := "Customer not added."
			if f.edit {
				text = "Nothing changed."
			}
			return f.c.nav.pop(&note{text, toneInfo}, false)
		case f.focus == emailAt && key.Matches(msg, k.Suggest) && f.email.addr.suggestion() != "":
			f.err, f.emailErr = note{}, ""
			return f.email.suggest()
		case key.Matches(msg, k.NextField):
			f.move(+1)
			return nil
		case key.Matches(msg, k.PrevField):
			f.move(-1)
			return nil
		}
		f.err = note{}
		if f.focus == emailAt {
			f.emailErr = ""
			return f.email.edit(msg)
		}
		in := f.at(f.focus)
		var cmd tea.Cmd
		in.input, cmd = in.input.Update(msg)
		f.check(in)
		return cmd
	}
	return nil
}

// addFields adds an input per custom field, with the customer's values.
func (f *customerForm) addFields(names []string) {
	values := map[string]string{}
	for _, v := range f.cust.Fields {
		values[v.Name] = v.Value
	}
	for i, name := range names {
		in := f.newInput(claim.FieldKey(i), name, values[name], store.MaxFieldLen)
		if v := values[name]; strings.ContainsAny(v, "\r\n") {
			in.locked = "several lines: not edited here"
			in.preview = inert.String(firstLine(v))
		}
		f.inputs = append(f.inputs, in)
	}
}

// check words what is wrong with in's value as typed, in the invite
// rules' words. The names are checked together: once a save was asked
// for, neither being there is worth saying.
func (f *customerForm) check(in *formInput) {
	if in.key != claim.KeyFirstName && in.key != claim.KeyLastName {
		in.err = ""
		if err := claim.CheckValue(in.key, in.label, in.value()); err != nil {
			in.err = say(err) + "."
		}
		return
	}
	first, last := &f.inputs[0], &f.inputs[1]
	first.err, last.err = "", ""
	for _, e := range (claim.CustomerValues{FirstName: first.value(), LastName: last.value()}).Check() {
		switch {
		case e.Field == claim.KeyFirstName && (f.tried || first.value() != ""):
			first.err = inert.String(e.Message)
		case e.Field == claim.KeyLastName:
			last.err = inert.String(e.Message)
		}
	}
}

// move puts the focus on the next (+1) or previous (-1) value that can be
// edited.
func (f *customerForm) move(delta int) {
	n := f.items()
	next := f.focus
	for range n {
		next = ((next+delta)%n + n) % n
		if next == emailAt || f.at(next).locked == "" {
			break
		}
	}
	f.setFocus(next)
}

func (f *customerForm) setFocus(i int) {
	if f.focus == emailAt {
		f.email.input.Blur()
	} else {
		f.at(f.focus).input.Blur()
	}
	f.focus = i
	if i == emailAt {
		f.email.input.Focus()
	} else {
		f.at(i).input.Focus()
	}
}

// values are the form's values as the invite service takes them.
func (f *customerForm) values() claim.CustomerValues {
	v := claim.CustomerValues{FirstName: f.inputs[0].value(), LastName: f.inputs[1].value(), Email: f.email.value(), Phone: f.inputs[2].value()}
	for _, in := range f.inputs[3:] {
		if in.locked == "" && (in.value() != "" || in.changed()) {
			v.Fields = append(v.Fields, store.Field{Name: in.label, Value: in.value()})
		}
	}
	return v
}

// change is what staff changed, for an edit: only those values are sent,
// so what another member saved meanwhile in the rest stays.
func (f *customerForm) change() (claim.CustomerChange, bool) {
	var ch claim.CustomerChange
	any := false
	for i := range f.inputs {
		in := &f.inputs[i]
		if !in.changed() {
			continue
		}
		any = true
		v := in.value()
		switch in.key {
		case claim.KeyFirstName:
			ch.FirstName = &v
		case claim.KeyLastName:
			ch.LastName = &v
		case claim.KeyPhone:
			ch.Phone = &v
		default:
			ch.Fields = append(ch.Fields, store.Field{Name: in.label, Value: v})
		}
	}
	if f.email.changed() {
		v := f.email.value()
		ch.Email, any = &v, true
	}
	return ch, any
}

func (f *customerForm) save() tea.Cmd {
	f.tried = true
	for i := range f.inputs {
		if f.inputs[i].changed() || !f.edit {
			f.check(&f.inputs[i])
		}
	}
	if first := f.firstError(); first >= 0 {
		f.setFocus(first)
		f.err = note{"Not saved: fix what is marked.", toneError}
		return nil
	}
	if f.email.changed() && f.email.value() == "" && f.email.claimed {
		f.setFocus(emailAt)
		f.err = note{"Not saved: " + f.email.signInOnly(), toneError}
		return nil
	}
	ctx, staff, inv := f.c.Ctx, f.c.Staff, f.deps.Invites
	if !f.edit {
		v := f.values()
		f.saving = true
		f.err = note{"Saving" + f.c.Styles.Glyphs.Ellipsis, toneInfo}
		return func() tea.Msg {
			c, err := inv.AddCustomer(ctx, staff, v)
			return customerSavedMsg{added: c, err: err}
		}
	}
	ch, any := f.change()
	if !any {
		return f.c.nav.pop(&note{"Nothing changed.", toneInfo}, false)
	}
	f.saving = true
	f.err = note{"Saving" + f.c.Styles.Glyphs.Ellipsis, toneInfo}
	id := f.cust.ID
	return func() tea.Msg {
		edit, err := inv.UpdateCustomer(ctx, staff, id, ch)
		if err != nil {
			return customerSavedMsg{err: err}
		}
		msg := customerSavedMsg{edit: edit}
		if edit.Email != nil {
			msg.email = deliverNotices(ctx, inv, emailSavedMsg{email: edit.Email.Email, change: edit.Email})
		}
		return msg
	}
}

// firstError is the form position of the first value refused as typed,
// -1 when none is.
func (f *customerForm) firstError() int {
	for i := range f.items() {
		if i == emailAt {
			if f.email.check.tone == toneError && f.email.changed() {
				return i
			}
			continue
		}
		if f.at(i).err != "" {
			return i
		}
	}
	return -1
}

// saved acts on the invite service's answer: a new customer's profile
// opens, with what to do next; an edit goes back to the profile saying
// what changed; a refusal stays, marked.
func (f *customerForm) saved(msg customerSavedMsg) tea.Cmd {
	var fe claim.FieldErrors
	var r *claim.Refusal
	switch {
	case errors.As(msg.err, &fe):
		for _, e := range fe {
			if e.Field == claim.KeyEmail {
				f.emailErr = inert.String(e.Message)
				continue
			}
			for i := range f.inputs {
				if f.inputs[i].key == e.Field {
					f.inputs[i].err = inert.String(e.Message)
				}
			}
		}
		if i := f.firstError(); i >= 0 {
			f.setFocus(i)
		} else if f.emailErr != "" {
			f.setFocus(emailAt)
		}
		f.err = note{"Not saved: fix what is marked.", toneError}
		return nil
	case errors.As(msg.err, &r):
		f.err = note{"Not saved: " + f.c.refusalText(r, onProfile), toneWarning}
		return nil
	case msg.err != nil:
		if store.ErrorCode(msg.err) == store.ECONFLICT {
			// Another customer has the address: the email editor's words.
			f.setFocus(emailAt)
		}
		f.err = note{"Not saved: " + say(msg.err), toneError}
		return nil
	case msg.added != nil:
		p := newProfile(f.c, f.deps, msg.added.ID)
		p.note = note{inert.String(f.c.words(onProfile).Added(msg.added)), toneSuccess}
		return tea.Batch(f.c.nav.pop(nil, true), f.c.nav.push(p, p.load()))
	}
	e := msg.edit
	if e.Unchanged() {
		return f.c.nav.pop(&note{"Nothing changed.", toneInfo}, false)
	}
	n := note{"", toneSuccess}
	if len(e.Changed) > 0 {
		n.text = "Saved: " + inert.String(strings.Join(e.Changed, ", ")) + "."
	}
	if e.Email != nil {
		en := f.email.saved(msg.email)
		n.text = strings.TrimSpace(n.text + " " + en.text)
		n.tone = en.tone
	}
	return f.c.nav.pop(&n, true)
}

func (f *customerForm) View() string {
	s := f.c.Styles
	b := &block{w: f.w, s: s, label: f.labelWidth()}
	title := s.Title.Render("Add a customer")
	if f.edit {
		title = s.Title.Render("Edit customer") + s.Subtle.Render(s.Glyphs.Sep+inert.String(f.cust.Name()))
	}
	b.line(title)
	b.line("")
	focusLine := 0
	for i := range f.items() {
		if i == f.focus {
			focusLine = len(b.lines)
		}
		if i == emailAt {
			f.emailLines(b)
			continue
		}
		in := f.at(i)
		if in.locked != "" {
			b.field(inert.String(in.label), s.Subtle.Render(in.preview+s.Glyphs.Ellipsis+" ("+in.locked+")"))
			continue
		}
		b.field(inert.String(in.label), inputView(&in.input, s))
		if in.err != "" {
			b.field("", s.Error.Render(in.err))
		}
	}
	if f.edit {
		if warn := f.email.warning(); warn != "" {
			b.line("")
			b.wrapped(s.Warning.Render(warn), 0)
		}
	}
	if f.loading {
		b.line(s.Subtle.Render("Loading the custom fields" + s.Glyphs.Ellipsis))
	}
	// Keep the value being typed on screen when the fields outgrow it:
	// the title stays, the rest scrolls.
	lines := b.lines
	if rest := f.h - 1; len(lines) > f.h && rest > 0 && focusLine > rest-2 {
		body := lines[1:]
		start := min(focusLine-1-rest/2, len(body)-rest)
		lines = append([]string{lines[0]}, body[start:start+rest]...)
	}
	return fit(joinLines(lines), f.w, f.h)
}

// emailLines draws the email with the editor's checks under it.
func (f *customerForm) emailLines(b *block) {
	s, e := f.c.Styles, f.email
	b.field("Email", inputView(&e.input, s))
	check := e.check
	if !f.edit && e.value() == "" {
		check = note{"Optional; without one they cannot be invited.", toneInfo}
	}
	if f.emailErr != "" {
		check = note{f.emailErr, toneError}
	}
	if check.text != "" && (f.focus == emailAt || check.tone == toneError || e.changed()) {
		b.field("", s.note(check))
	}
	if check.tone != toneError && f.focus == emailAt {
		hint := ""
		if sg := e.addr.suggestion(); sg != "" {
			hint = " Press " + f.c.KeyMap.Suggest.Help().Key + " to use " + inert.String(sg) + "."
		}
		for _, n := range e.addr.notes(hint) {
			b.field("", s.note(n))
		}
	}
}

// firstLine is the text up to its first line break.
func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

var _ interface {
	busier
	helpKeyer
} = (*customerForm)(nil)
