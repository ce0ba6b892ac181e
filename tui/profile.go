package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"frontdesk/claim"
	"frontdesk/mailer"
	"frontdesk/store"
	"frontdesk/store/format"
	"frontdesk/tui/inert"
)

type profileMsg struct {
	seq int
	p   *store.Profile
	err error
}

// profileScreen shows one customer: contact details, custom fields, the
// account and its invite history, bookings, payments and subscriptions.
type profileScreen struct {
	c    *Common
	deps Deps
	id   int64
	seq  int // of the latest load; older answers are dropped

	p        *store.Profile
	err      string
	loading  bool
	checking bool
	pg       pager
	note     note
	w, h     int
}

func newProfile(c *Common, deps Deps, id int64) *profileScreen {
	return &profileScreen{c: c, deps: deps, id: id, w: c.Width, h: c.Height}
}

func (p *profileScreen) load() tea.Cmd {
	p.seq++
	p.loading = true
	seq, id, ctx, org, roster := p.seq, p.id, p.c.Ctx, p.c.Org.ID, p.deps.Roster
	return func() tea.Msg {
		prof, err := roster.Profile(ctx, org, id)
		return profileMsg{seq: seq, p: prof, err: err}
	}
}

func (p *profileScreen) busy() bool     { return p.p == nil && p.loading || p.checking }
func (p *profileScreen) Note() note     { return p.note }
func (p *profileScreen) setNote(n note) { p.note = n; p.render() }
func (p *profileScreen) Typing() bool   { return false }
func (p *profileScreen) takesQuit()     {} // q goes back

func (p *profileScreen) ShortHelp() []key.Binding {
	k := p.c.KeyMap
	inv, edit, reset, here := with(k.Invite, "invite"), k.EditEmail, with(k.Reset, "reset"), k.ClaimHere
	if !p.c.CanManage() {
		inv, edit, reset, here = with(inv, "invite (owner/admin)"), with(edit, "edit email (owner/admin)"), with(reset, "reset (owner/admin)"), with(here, "claim here (owner/admin)")
	}
	// No scroll keys: with r and c they no longer fit 80 columns, and the
	// title says "more below" when there is more; ? lists them.
	return []key.Binding{inv, edit, reset, here, with(k.Back, "back"), k.Help}
}

func (p *profileScreen) FullHelp() [][]key.Binding {
	k := p.c.KeyMap
	return [][]key.Binding{
		{with(k.Invite, "invite to claim the account (or resend)"), with(k.ClaimHere, "claim here: show a new link as a QR code to scan at the desk"), with(k.EditEmail, "edit the email"),
			with(k.Reset, "send a password-reset link (claimed accounts)"), with(k.Back, "back to the roster"), with(k.Quit, "back to the roster")},
		{with(k.Edit, "edit name, email, phone and custom fields"), with(k.Withdraw, "withdraw the outstanding invite"),
			with(k.Archive, "archive the customer"), with(k.Restore, "restore an archived customer")},
		k.scrollKeys(),
	}
}

func (p *profileScreen) SetSize(w, h int) {
	if w == p.w && h == p.h && p.pg.lines != nil {
		return
	}
	p.w, p.h = w, h
	p.render()
}

func (p *profileScreen) Update(msg tea.Msg) tea.Cmd {
	k := p.c.KeyMap
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, k.Back), key.Matches(msg, k.Quit):
			return p.c.nav.pop(nil, false)
		case key.Matches(msg, k.EditEmail):
			if !p.c.CanManage() {
				p.note = note{forbiddenText("change emails", p.c.Styles.Glyphs), toneWarning}
				return nil
			}
			if p.p == nil {
				return nil
			}
			p.note = note{}
			e := newEmailEditor(p.c, p.deps, p.p)
			return p.c.nav.push(e, e.Init())
		case key.Matches(msg, k.Invite):
			if p.p == nil {
				return nil
			}
			p.note = note{"Checking" + p.c.Styles.Glyphs.Ellipsis, toneInfo}
			p.checking = true
			return checkInvite(p.c, p.deps, p.id)
		case key.Matches(msg, k.ClaimHere):
			if !p.c.CanManage() {
				p.note = note{forbiddenText("show claim codes", p.c.Styles.Glyphs), toneWarning}
				return nil
			}
			if p.p == nil {
				return nil
			}
			p.note = note{"Checking" + p.c.Styles.Glyphs.Ellipsis, toneInfo}
			p.checking = true
			return checkDesk(p.c, p.deps, p.id)
		case key.Matches(msg, k.Reset):
			if !p.c.CanManage() {
				p.note = note{forbiddenText("send password-reset links", p.c.Styles.Glyphs), toneWarning}
				return nil
			}
			if p.p == nil {
				return nil
			}
			p.note = note{"Checking" + p.c.Styles.Glyphs.Ellipsis, toneInfo}
			p.checking = true
			return checkReset(p.c, p.deps, p.id)
		default:
			if cmd, ok := p.keep(msg); ok {
				return cmd
			}
			p.pg.handle(msg, k)
		}
	case doneMsg: // a restore
		p.checking = false
		var cmd tea.Cmd
		p.note, cmd = done(p.c, msg)
		return cmd
	case profileMsg:
		if msg.seq != p.seq {
			return nil
		}
		p.loading = false
		if msg.err != nil {
			p.err = say(msg.err)
		} else {
			p.p, p.err = msg.p, ""
		}
		p.render()
	case checkMsg:
		p.checking = false
		var cmd tea.Cmd
		p.note, cmd = answer(p.c, p.deps, msg, onProfile)
		return cmd
	case changedMsg:
		return p.load()
	case liveMsg:
		// Another session's invite, the worker's delivery, the customer's
		// claim or edit on the web: read the profile again, in place.
		if slices.ContainsFunc(msg.changes, func(c store.Change) bool { return c.ConcernsCustomer(p.id) }) {
			return p.load()
		}
	case orgMsg:
		p.render() // dates in the organization's time zone, what i would do
	}
	return nil
}

// forbiddenText is the staff role's answer to e, i and r.
func forbiddenText(what string, g Glyphs) string {
	return "Your role cannot manage customers, so it cannot " + what + g.Dash + "ask an owner or admin."
}

func (p *profileScreen) View() string {
	s := p.c.Styles
	title := "Profile"
	if p.p != nil {
		title = inert.String(p.p.Name())
	}
	right := ""
	if p.pg.canScroll() {
		right = fmt.Sprintf("%d%%", min(100, (p.pg.off+p.pg.h)*100/max(len(p.pg.lines), 1)))
		if p.pg.more() {
			right = "more below " + right
		}
	}
	return fit(spread(s.Title.Render(title), s.Subtle.Render(right), p.w)+"\n"+p.pg.View(), p.w, p.h)
}

// render lays the profile out for the current width; View then only picks
// the visible lines.
func (p *profileScreen) render() {
	p.pg.SetHeight(p.h - 1)
	s := p.c.Styles
	switch {
	case p.err != "":
		p.pg.SetLines(wrap(s.Error.Render("Could not load the profile: "+p.err), p.w))
		return
	case p.p == nil:
		p.pg.SetLines([]string{s.Subtle.Render("Loading" + s.Glyphs.Ellipsis)})
		return
	}
	pr, loc := p.p, p.c.loc()
	b := &block{w: p.w, s: s, label: labelW}
	for _, f := range pr.Fields {
		b.label = max(b.label, min(ansiWidth(inert.String(f.Name))+2, 24))
	}

	email := s.Subtle.Render("none")
	if pr.Email != "" {
		email = inert.String(pr.Email)
		if err := store.ValidateEmail(pr.Email); err != nil {
			email += "  " + s.Error.Render("invalid: "+say(err))
		}
	}
	b.field("Email", email)
	phone := s.Subtle.Render("none")
	if pr.Phone != "" {
		phone = inert.String(pr.Phone)
	}
	b.field("Phone", phone)
	b.field("Member since", format.Date(pr.CreatedAt, loc))
	for _, f := range pr.Fields {
		b.field(inert.String(f.Name), inert.String(f.Value))
	}

	b.section("Account")
	if pr.Archived {
		b.field("Archived", s.Warning.Render("Not on the roster; every link stopped working and they cannot sign in. Press R to restore them."))
	}
	b.field("Status", p.statusText())
	b.field("Invite", p.inviteText())
	if len(pr.Invites) == 0 {
		b.line(s.Subtle.Render("  No invites sent yet."))
	}
	for i := range pr.Invites {
		p.inviteLines(b, &pr.Invites[i])
	}

	b.section(fmt.Sprintf("Upcoming bookings (%s)", countText(len(pr.Upcoming))))
	if len(pr.Upcoming) == 0 {
		b.line(s.Subtle.Render("  None."))
	}
	for _, bk := range pr.Upcoming {
		b.booking(bk, loc)
	}
	b.section(fmt.Sprintf("Past bookings (%s)", countText(len(pr.Past))))
	if len(pr.Past) == 0 {
		b.line(s.Subtle.Render("  None."))
	}
	for _, bk := range pr.Past {
		b.booking(bk, loc)
	}
	b.section(fmt.Sprintf("Payments (%s)", countText(len(pr.Payments))))
	if len(pr.Payments) == 0 {
		b.line(s.Subtle.Render("  None."))
	}
	for _, pay := range pr.Payments {
		b.wrapped("  "+pad(format.Date(pay.PaidAt, loc), 16)+" "+padLeft(inert.String(format.Money(pay.Amount, pay.Currency, s.ASCII)), 14)+"  "+pad(inert.String(format.Label(pay.Status)), 9)+" "+inert.String(pay.Description), 4)
	}
	b.section(fmt.Sprintf("Subscriptions (%s)", countText(len(pr.Subs))))
	if len(pr.Subs) == 0 {
		b.line(s.Subtle.Render("  None."))
	}
	for _, sub := range pr.Subs {
		t := inert.String(sub.Plan) + s.Glyphs.Sep + inert.String(format.Price(sub.Price, sub.Currency, sub.Interval, s.ASCII)) +
			s.Glyphs.Sep + inert.String(format.Label(sub.Status)) + s.Glyphs.Sep + "since " + format.Date(sub.StartedAt, loc)
		if !sub.EndedAt.IsZero() {
			t += s.Glyphs.Sep + "ended " + format.Date(sub.EndedAt, loc)
		} else if !sub.RenewsAt.IsZero() {
			t += s.Glyphs.Sep + "renews " + format.Date(sub.RenewsAt, loc)
		}
		b.wrapped("  "+t, 4)
	}
	p.pg.SetLines(b.lines)
}

// countText says a capped list is capped: the store returns at most
// ProfileLimit of each.
func countText(n int) string {
	if n >= store.ProfileLimit {
		return fmt.Sprintf("latest %d", n)
	}
	return fmt.Sprint(n)
}

func (p *profileScreen) statusText() string {
	s, pr, loc := p.c.Styles, p.p, p.c.loc()
	switch pr.Status {
	case store.StatusClaimed:
		return s.Status[pr.Status].Render("Claimed") + " on " + format.Date(pr.ClaimedAt, loc)
	case store.StatusInvited:
		return s.Status[pr.Status].Render("Invited") + s.Glyphs.Dash + "link expires " + format.Expiry(pr.InviteExpiresAt, loc)
	case store.StatusExpired:
		return s.Status[pr.Status].Render("Invite expired") + " on " + format.Expiry(pr.InviteExpiresAt, loc)
	case store.StatusFailed:
		t := s.Status[pr.Status].Render("Delivery failed")
		if len(pr.Invites) > 0 && pr.Invites[0].LastError != "" {
			t += ": " + inert.String(mailer.ExplainWith(pr.Invites[0].LastError, s.Glyphs.Dash))
		}
		return t
	}
	return s.Status[pr.Status].Render(pr.Status.Label())
}

// inviteText says what i would do here, or why it will not.
func (p *profileScreen) inviteText() string {
	s, pr := p.c.Styles, p.p
	if r := claim.CanInvite(p.c.Staff, p.c.Org, &pr.Customer); r != nil {
		return s.Warning.Render(p.c.refusalText(r, onProfile))
	}
	if pr.HasLiveInvite() {
		return "Press i to send a new invite; the current link stops working."
	}
	if !pr.InviteSentAt.IsZero() {
		return "Press i to send a new invite."
	}
	return "Press i to invite them to claim their account."
}

// inviteLines is one entry of the invite history: when, by whom, to which
// address; what became of the email (the server's words explained, and
// quoted); then of the link: when it was first opened, used, revoked and
// why, expired. What the link's state is, is store.Invite.State's to say.
func (p *profileScreen) inviteLines(b *block, inv *store.Invite) {
	s, loc, g := p.c.Styles, p.c.loc(), p.c.Styles.Glyphs
	what := "Invite"
	switch {
	case inv.Purpose == store.PurposeReset:
		what = "Password reset"
	case inv.ReminderOf != 0:
		what = "Reminder"
	}
	by := inert.String(inv.CreatedByName)
	if inv.CreatedBy == 0 {
		// No staff creator: frontdesk's reminder, or the customer's own
		// request (a reset link, or a new invite asked for from the page
		// of a dead one).
		by = "the customer"
		if inv.ReminderOf != 0 {
			by = "frontdesk"
		}
	}
	b.wrapped("  "+format.DateTime(inv.CreatedAt, loc)+"  "+s.Bold.Render(what)+" by "+by+" to "+inert.String(inv.Email), 6)

	// The server's words, explained, with the words themselves after.
	explained := func(reply string) string {
		if reply == "" {
			return ""
		}
		return ": " + inert.String(mailer.ExplainWith(reply, g.Dash)) + " (" + inert.String(reply) + ")"
	}
	var mail string
	switch d := inv.Delivery(); d {
	case store.DeliverySent:
		mail = s.Success.Render("mail sent") + " " + format.DateTime(inv.SentAt, loc)
		if inv.Reply != "" {
			mail += " (" + inert.String(inv.Reply) + ")"
		}
	case store.DeliveryFailed:
		mail = s.Error.Render("mail failed") + explained(inv.LastError)
	case store.DeliveryBounced:
		mail = s.Error.Render("mail bounced") + explained(inv.LastError)
	case store.DeliveryRetrying:
		mail = s.Warning.Render("mail being retried") + fmt.Sprintf(" (%s), next attempt %s", attempts(inv.Attempts), format.DateTime(inv.NextAttemptAt, loc)) + explained(inv.LastError)
	case store.DeliveryQueued:
		mail = s.Warning.Render("mail queued") + ", not tried yet"
	default:
		mail = s.Subtle.Render("no mail record")
		if inv.Channel == store.ChannelDesk {
			mail = "no email: shown at the desk as a QR code"
		}
	}
	b.wrapped("      "+mail, 8)

	var link string
	now := p.deps.Now()
	state, why := inv.State(&p.p.Customer, now)
	opened := ""
	if !inv.OpenedAt.IsZero() {
		opened = "opened " + format.DateTime(inv.OpenedAt, loc) + g.Sep
	}
	switch state {
	case store.InviteUsed:
		link = opened + "used " + format.DateTime(inv.UsedAt, loc)
	case store.InviteFailed:
		link = opened + "link never reached them and no longer works"
	case store.InviteRevoked:
		link = "revoked: " + why.Words()
		if !inv.RevokedAt.IsZero() {
			link = "revoked " + format.DateTime(inv.RevokedAt, loc) + ": " + why.Words()
		}
		link = opened + link
	case store.InviteExpired:
		link = opened + "expired " + format.DateTime(inv.ExpiresAt, loc)
	case store.InviteOldEmail:
		link = opened + "dead: sent to an earlier address"
	default:
		live := s.Success.Render("link live") + ", expires " + format.Expiry(inv.ExpiresAt, loc)
		switch {
		case inv.AwaitingPassword(&p.p.Customer, now) && inv.Purpose == store.PurposeReset:
			link = s.Warning.Render("opened "+format.DateTime(inv.OpenedAt, loc)+", new password not set yet") + g.Sep + live
		case inv.AwaitingPassword(&p.p.Customer, now):
			link = s.Warning.Render("opened "+format.DateTime(inv.OpenedAt, loc)+", password not set yet") + g.Sep + live
		default:
			link = "not opened yet" + g.Sep + live
		}
	}
	b.wrapped("      "+link, 8)
}

// block collects a screen's lines at one width.
type block struct {
	w     int
	s     *Styles
	lines []string
	label int // width of field labels; labelW when 0
}

const labelW = 14

func (b *block) line(l string) { b.lines = append(b.lines, clip(l, b.w)) }

// field is "Label         value", the value wrapped under itself.
func (b *block) field(label, value string) {
	lw := labelW
	if b.label > 0 {
		lw = b.label
	}
	lw = min(lw, b.w/3)
	label = cell(label, lw-1, b.s.Glyphs.Ellipsis) + " "
	for i, l := range wrap(value, max(b.w-lw, 10)) {
		if i == 0 {
			b.lines = append(b.lines, clip(b.s.Label.Render(label)+l, b.w))
		} else {
			b.lines = append(b.lines, clip(spaces(lw)+l, b.w))
		}
	}
}

// wrapped adds text, continuation lines indented.
func (b *block) wrapped(text string, indent int) {
	first := wrap(text, b.w)
	b.lines = append(b.lines, first[0])
	if len(first) == 1 {
		return
	}
	// The rest again, narrower, so the indent fits.
	for _, r := range wrap(strings.Join(first[1:], " "), max(b.w-indent, 10)) {
		b.lines = append(b.lines, clip(spaces(indent)+r, b.w))
	}
}

func (b *block) section(title string) {
	b.lines = append(b.lines, "")
	g := b.s.Glyphs.Rule
	head := g + g + " " + title + " "
	b.lines = append(b.lines, b.s.Section.Render(head+strings.Repeat(g, max(b.w-ansiWidth(head), 0))))
}

func (b *block) booking(bk store.Booking, loc *time.Location) {
	b.wrapped("  "+pad(format.DateTime(bk.StartsAt, loc), 24)+pad(inert.String(format.Label(bk.Kind)), 12)+pad(inert.String(format.Label(bk.Status)), 10)+inert.String(bk.Title), 4)
}

func padLeft(s string, w int) string {
	if n := w - ansiWidth(s); n > 0 {
		return spaces(n) + s
	}
	return s
}
