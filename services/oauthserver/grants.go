package oauthserver

import (
	"context"

	"github.com/aidawg/jarvis/services"
)

// GrantsOf are the live grants of the user a principal is; every grant when all is set, which
// needs the admin scope.
func (s *Server) GrantsOf(ctx context.Context, p services.Principal, all bool) ([]Grant, map[string]string, error) {
	emails := map[string]string{}
	var grants []Grant
	if all {
		if !p.Has(services.ScopeAdmin) {
			return nil, nil, services.Errorf(services.CodeForbidden, "all=true needs the admin scope; leave it out to list your own grants.")
		}
		var err error
		if grants, err = s.store.ListGrants(ctx, "", ""); err != nil {
			return nil, nil, err
		}
	} else {
		u, ok, err := s.userOf(ctx, p)
		if err != nil || !ok {
			return []Grant{}, emails, err
		}
		if grants, err = s.store.ListGrants(ctx, u.Tenant, u.ID); err != nil {
			return nil, nil, err
		}
	}
	users, err := s.store.ListUsers(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, u := range users {
		emails[u.ID] = u.Email
	}
	return grants, emails, nil
}

// userOf is the signed-in user a principal is: the user of a token Jarvis issued.
func (s *Server) userOf(ctx context.Context, p services.Principal) (User, bool, error) {
	u, err := s.store.GetUserByEmail(ctx, p.User)
	if se, ok := services.AsError(err); ok && se.Code == services.CodeNotFound {
		return User{}, false, nil
	}
	if err != nil {
		return User{}, false, err
	}
	return u, u.Tenant == p.Tenant && p.Method == services.MethodOAuth2, nil
}

// RevokeGrantOf revokes one of the principal's grants, or anyone's with the admin scope; a
// grant of someone else is not found.
func (s *Server) RevokeGrantOf(ctx context.Context, p services.Principal, id string) error {
	g, err := s.store.GetGrant(ctx, id)
	if err != nil {
		return err
	}
	if !p.Has(services.ScopeAdmin) {
		u, ok, err := s.userOf(ctx, p)
		if err != nil {
			return err
		}
		if !ok || g.UserID != u.ID {
			return services.Errorf(services.CodeNotFound, "There is no grant %s of yours. Call listGrants for your grants.", id)
		}
	}
	return s.RevokeGrant(ctx, g.ID)
}
