package handlers

import (
	"context"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/oauthserver"
)

// GrantService lists and revokes the grants of Jarvis's own authorization server; without one
// (JARVIS_OAUTH_SERVER=off) both operations answer 501 before their handlers run.
type GrantService interface {
	GrantsOf(ctx context.Context, p services.Principal, all bool) ([]oauthserver.Grant, map[string]string, error)
	RevokeGrantOf(ctx context.Context, p services.Principal, id string) error
}

// ListGrants answers the caller's grants, or everyone's for an admin with all=true.
func (s *Server) ListGrants(ctx context.Context, req jarvis.ListGrantsRequestObject) (jarvis.ListGrantsResponseObject, error) {
	p, _ := services.PrincipalFrom(ctx)
	grants, emails, err := s.deps.Grants.GrantsOf(ctx, p, req.Params.All != nil && *req.Params.All)
	if err != nil {
		return failed(ctx, err)
	}
	out := jarvis.GrantList{Grants: make([]jarvis.Grant, 0, len(grants))}
	for _, g := range grants {
		out.Grants = append(out.Grants, jarvis.Grant{Id: g.ID, ClientId: g.ClientID, ClientName: g.ClientName, Tenant: g.Tenant,
			User: emails[g.UserID], Scopes: g.Scopes, Resource: g.Resource, CreatedAt: g.Created, LastUsedAt: g.LastUsed})
	}
	return jarvis.ListGrants200JSONResponse(out), nil
}

// RevokeGrant ends one of the caller's grants (anyone's for an admin).
func (s *Server) RevokeGrant(ctx context.Context, req jarvis.RevokeGrantRequestObject) (jarvis.RevokeGrantResponseObject, error) {
	p, _ := services.PrincipalFrom(ctx)
	if err := s.deps.Grants.RevokeGrantOf(ctx, p, req.GrantId); err != nil {
		return failed(ctx, err)
	}
	return jarvis.RevokeGrant204Response{}, nil
}
