package claim

import (
	"context"

	"frontdesk/store"
)

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

// Peek is Lookup in one query, for pages that show a link's state or its
// form on every view (the customers' web). Link.Customer comes without its
// custom fields; Redeem does the full Lookup again under the write lock, so
// nothing is decided on what Peek read.
func (s *Service) Peek(ctx context.Context, purpose store.Purpose, token string) (*Link, error) {
	hash, ok := TokenHash(token)
	if !ok {
		return &Link{State: LinkUnknown}, nil
	}
	inv, org, c, err := s.DB.LinkByTokenHash(ctx, s.DB.Read(), hash)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return &Link{State: LinkUnknown}, nil
	} else if err != nil {
		return nil, err
	}
	if inv.Purpose != purpose {
		return &Link{State: LinkUnknown}, nil
	}
	return &Link{State: linkState(inv, c, s.DB.Now().Unix()), Invite: inv, Customer: c, Org: org}, nil
}
