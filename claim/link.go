package claim

// CheckPassword applies the password policy to a new password for this
// link's customer: the organization's minimum and the words it must not be
// built from. The web pages call it before Redeem so that every mistake on
// the form is reported at once; Redeem checks again.
func (l *Link) CheckPassword(pw string) error {
	if l.Org == nil || l.Customer == nil {
		return CheckPassword(pw, DefaultMinPassword)
	}
	return CheckPassword(pw, l.Org.MinPasswordLength, passwordContext(l.Org, l.Customer)...)
}

// MinPassword is the shortest password this link's organization accepts.
func (l *Link) MinPassword() int {
	if l.Org == nil || l.Org.MinPasswordLength < 8 {
		return DefaultMinPassword
	}
	return l.Org.MinPasswordLength
}
