package web

import (
	"errors"
	"net/http"
	"strconv"

	"frontdesk/claim"
	"frontdesk/store"
	"frontdesk/store/format"
)

// accountView is the account page: the profile as text, and the lists.
type accountView struct {
	Greeting    string
	Email       string
	MemberSince string
	PaymentsURL string
	// Welcome is the sign-in address, shown once, on the page a claim
	// lands on: where to sign in next time.
	Welcome string
	// Kept are the staff-only custom fields: shown, not editable.
	Kept     []keptField
	Upcoming []bookingView
	Past     []bookingView
	Payments []paymentView
	Subs     []subView
}

type keptField struct{ Name, Value string }
type bookingView struct{ Title, Kind, When, Status string }
type paymentView struct{ Amount, Description, When, Status string }
type subView struct{ Plan, Status, Price, Dates string }

// requireSession returns the live session or sends the browser to sign in
// (saying why when the session had expired) and returns nil.
func (h *handler) requireSession(w http.ResponseWriter, r *http.Request) *claim.CustomerSession {
	tok := h.cookie(r, sessionCookie)
	if tok == "" {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	sess, err := h.svc.Session(r.Context(), tok, h.sessions)
	switch {
	case errors.Is(err, claim.ErrSessionExpired):
		h.clearCookie(w, sessionCookie)
		http.Redirect(w, r, "/login?m=expired", http.StatusSeeOther)
		return nil
	case err != nil && claim.IsSessionError(err):
		h.clearCookie(w, sessionCookie)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	case err != nil:
		h.internal(w, r, err)
		return nil
	}
	return sess
}

// sessionAccount is requireSession plus the signed-in customer's account;
// nil when the response has been written.
func (h *handler) sessionAccount(w http.ResponseWriter, r *http.Request) (*claim.CustomerSession, *claim.Account) {
	sess := h.requireSession(w, r)
	if sess == nil {
		return nil, nil
	}
	acc, err := h.svc.Account(r.Context(), sess)
	if err != nil {
		h.internal(w, r, err)
		return nil, nil
	}
	return sess, acc
}

// account is GET /account.
func (h *handler) account(w http.ResponseWriter, r *http.Request) {
	_, acc := h.sessionAccount(w, r)
	if acc == nil {
		return
	}
	m := r.URL.Query().Get("m")
	h.renderAccount(w, r, http.StatusOK, acc, nil, nil, notices[m], m == "claimed")
}

// accountSave is POST /account. The customer is the session's; the form
// carries no id, and any id-like field a browser adds is ignored. Custom
// fields are addressed by their position in the organization's list
// (field.0, field.1, …), and only those present in the form change. The
// page has no input for a staff-only field; a form that changes one anyway
// is refused whole (403) and nothing is saved (claim.UpdateProfile).
func (h *handler) accountSave(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	sess, acc := h.sessionAccount(w, r)
	if acc == nil {
		return
	}
	f := r.PostForm
	u := store.ProfileUpdate{FirstName: f.Get("first_name"), LastName: f.Get("last_name"), Phone: f.Get("phone")}
	var keys []string
	for i, cf := range acc.Fields {
		key := "field." + strconv.Itoa(i)
		if vs, ok := f[key]; ok && len(vs) > 0 {
			u.Fields = append(u.Fields, store.Field{Name: cf.Name, Value: vs[0]})
			keys = append(keys, key)
		}
	}
	err := h.svc.UpdateProfile(r.Context(), sess, u, keys)
	var fe claim.FieldErrors
	if errors.As(err, &fe) {
		status := http.StatusUnprocessableEntity
		errs := map[string]string{}
		for _, e := range fe {
			if e.Locked {
				status = http.StatusForbidden
				h.log.Warn("account form changed a staff-only field", "client", h.client(r), "org", sess.OrgID, "customer", sess.CustomerID, "field", e.Field)
			}
			if errs[e.Field] == "" {
				errs[e.Field] = e.Message
			}
		}
		h.renderAccount(w, r, status, acc, f, errs, "", false)
		return
	} else if err != nil {
		h.internal(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?m=saved", http.StatusSeeOther)
}

// renderAccount shows the account page; form and errs, when set, are a
// refused submission to show again with its errors.
func (h *handler) renderAccount(w http.ResponseWriter, r *http.Request, status int, acc *claim.Account, form map[string][]string, errs map[string]string, notice string, claimed bool) {
	p, org := acc.Profile, acc.Org
	loc := org.Location()
	value := func(key, stored string) string {
		if form != nil {
			if vs := form[key]; len(vs) > 0 {
				return vs[0]
			}
		}
		return stored
	}
	fields := []field{
		{ID: "first_name", Name: "first_name", Label: "First name", Type: "text", Autocomplete: "given-name", Value: value("first_name", p.FirstName), Error: errs["first_name"]},
		{ID: "last_name", Name: "last_name", Label: "Last name", Type: "text", Autocomplete: "family-name", Value: value("last_name", p.LastName), Error: errs["last_name"]},
		{ID: "phone", Name: "phone", Label: "Phone", Type: "tel", Autocomplete: "tel", InputMode: "tel", Value: value("phone", p.Phone), Error: errs["phone"]},
	}
	stored := map[string]string{}
	for _, f := range p.Fields {
		stored[f.Name] = f.Value
	}
	av := &accountView{
		Greeting: p.FirstName, Email: p.Email, PaymentsURL: org.PaymentsURL,
		MemberSince: format.Date(p.CreatedAt, loc),
	}
	var formErr string
	for i, cf := range acc.Fields {
		key := "field." + strconv.Itoa(i)
		if !cf.CustomerEditable {
			// Shown as the studio keeps it, never as an input.
			if v := stored[cf.Name]; v != "" {
				av.Kept = append(av.Kept, keptField{Name: cf.Name, Value: v})
			}
			if errs[key] != "" && formErr == "" {
				formErr = errs[key]
			}
			continue
		}
		fields = append(fields, field{ID: "field-" + strconv.Itoa(i), Name: key, Label: cf.Name, Type: "text", Value: value(key, stored[cf.Name]), Error: errs[key]})
	}
	if claimed {
		av.Welcome = h.svc.SignInURL(org.Slug)
	}
	if av.Greeting == "" {
		av.Greeting = p.Name()
	}
	for _, b := range p.Upcoming {
		av.Upcoming = append(av.Upcoming, bookingOf(b, loc))
	}
	for _, b := range p.Past {
		av.Past = append(av.Past, bookingOf(b, loc))
	}
	for _, pay := range p.Payments {
		av.Payments = append(av.Payments, paymentView{
			Amount: format.Money(pay.Amount, pay.Currency, false), Description: pay.Description,
			When: format.Date(pay.PaidAt, loc), Status: format.Label(pay.Status),
		})
	}
	for _, s := range p.Subs {
		av.Subs = append(av.Subs, subOf(s, loc))
	}
	h.render(w, r, status, "account", &view{
		Title: "Your account", org: org, SignedIn: true,
		Account: av, Fields: focusFirstError(fields), Notice: notice, FormError: formErr,
	})
}
