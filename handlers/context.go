package handlers

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/usercontext"
)

// ContextService remembers users.
type ContextService interface {
	Get(ctx context.Context, owner services.Owner, conversationID string) (usercontext.Context, []usercontext.Recommendation, error)
	Recommendations(ctx context.Context, owner services.Owner) ([]usercontext.Recommendation, error)
	SetPreferences(ctx context.Context, owner services.Owner, p usercontext.Preferences) error
	Erase(ctx context.Context, owner services.Owner) error
}

func (s *Server) GetUserContext(ctx context.Context, req jarvis.GetUserContextRequestObject) (jarvis.GetUserContextResponseObject, error) {
	o, perr := owner(ctx)
	if perr != nil {
		return problemOf(ctx, perr), nil
	}
	conv := ""
	if req.Params.OpenaiConversationId != nil {
		conv = *req.Params.OpenaiConversationId
	}
	c, recs, err := s.contexts.Get(ctx, o, conv)
	if err != nil {
		return nil, err
	}
	out := jarvis.UserContext{
		Summary:         jarvis.ContextSummary{FirstSeenAt: c.FirstSeen, LastActiveAt: c.LastActive, TotalActions: c.Stats.Total},
		Preferences:     apiPreferences(c.Preferences),
		RecentActions:   make([]jarvis.ActionEntry, 0, usercontext.RecentSize),
		Recommendations: apiRecommendations(recs),
		Statistics: jarvis.ContextStatistics{
			TotalActions: c.Stats.Total, SuccessRate: c.Stats.SuccessRate, TopOperations: []jarvis.OperationCount{},
		},
	}
	for _, e := range c.History[:min(len(c.History), usercontext.RecentSize)] {
		ae := jarvis.ActionEntry{At: e.At, OperationId: e.OperationID, Module: e.Module, Params: e.Params,
			Outcome: e.Outcome, DurationMs: e.DurationMs}
		if ae.Params == nil {
			ae.Params = map[string]any{}
		}
		if e.JobID != "" {
			id := e.JobID
			ae.JobId = &id
		}
		out.RecentActions = append(out.RecentActions, ae)
	}
	if c.Stats.FavouriteModule != "" {
		fav := c.Stats.FavouriteModule
		out.Statistics.FavouriteModule = &fav
	}
	for _, oc := range c.Stats.TopOperations {
		out.Statistics.TopOperations = append(out.Statistics.TopOperations, jarvis.OperationCount{OperationId: oc.OperationID, Count: oc.Count})
	}
	if c.Stats.AverageSession != nil {
		secs := c.Stats.AverageSession.Seconds()
		out.Statistics.AverageSessionSeconds = &secs
	}
	if c.Session != nil {
		sess := jarvis.ConversationSession{ConversationId: c.Session.ConversationID, StartedAt: c.Session.StartedAt,
			LastActiveAt: c.Session.LastActiveAt, Data: []jarvis.SessionValue{}}
		keys := make([]string, 0, len(c.Session.Data))
		for k := range c.Session.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sess.Data = append(sess.Data, jarvis.SessionValue{Key: k, Value: c.Session.Data[k]})
		}
		out.Session = &sess
	}
	return jarvis.GetUserContext200JSONResponse(out), nil
}

func (s *Server) UpdatePreferences(ctx context.Context, req jarvis.UpdatePreferencesRequestObject) (jarvis.UpdatePreferencesResponseObject, error) {
	o, perr := owner(ctx)
	if perr != nil {
		return problemOf(ctx, perr), nil
	}
	p := usercontext.DefaultPreferences()
	b := req.Body
	for _, m := range b.FavouriteModules {
		p.FavouriteModules = append(p.FavouriteModules, string(m))
	}
	if b.OutputFormat != nil {
		p.OutputFormat = string(*b.OutputFormat)
	}
	if b.Notifications != nil {
		if b.Notifications.JobCompletion != nil {
			p.Notifications.JobCompletion = *b.Notifications.JobCompletion
		}
		if b.Notifications.Errors != nil {
			p.Notifications.Errors = *b.Notifications.Errors
		}
	}
	var fields []services.FieldError
	seen := map[string]bool{}
	for i, d := range b.DefaultParams {
		op := string(d.OperationId)
		at := fmt.Sprintf("/defaultParams/%d", i)
		if seen[op] {
			fields = append(fields, services.FieldError{Field: at + "/operationId", Message: "is given twice; give each operation's defaults once"})
			continue
		}
		seen[op] = true
		fields = append(fields, s.checkDefaults(op, d.Params, at+"/params")...)
		p.DefaultParams = append(p.DefaultParams, usercontext.DefaultParams{OperationID: op, Params: d.Params})
	}
	if len(fields) > 0 {
		return problemOf(ctx, &services.Error{Code: services.CodeUnprocessable, Fields: fields,
			Detail: "Some default params cannot apply: " + fields[0].Field + " " + fields[0].Message + ". Defaults may only fill optional request fields, with values the operation accepts."}), nil
	}
	if err := s.contexts.SetPreferences(ctx, o, p); err != nil {
		return nil, err
	}
	return jarvis.UpdatePreferences200JSONResponse(apiPreferences(p)), nil
}

// checkDefaults checks each default against the operation's request schema, compiled once at
// start: it must name an optional field and hold a value that field accepts.
func (s *Server) checkDefaults(operationID string, params map[string]any, at string) []services.FieldError {
	op, ok := s.deps.Requests.ByID(operationID)
	if !ok || !op.HasBody() {
		return []services.FieldError{{Field: at, Message: "belongs to an operation without a request body"}}
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []services.FieldError
	for _, k := range keys {
		known, required := op.BodyField(k)
		switch {
		case !known:
			out = append(out, services.FieldError{Field: at + "/" + k, Message: "is not a field of " + operationID})
		case required:
			out = append(out, services.FieldError{Field: at + "/" + k, Message: "is required by " + operationID + ", so a default never applies"})
		case op.CheckBodyField(k, params[k]) != nil:
			out = append(out, services.FieldError{Field: at + "/" + k, Message: "is not a value " + operationID + " accepts for " + k})
		}
	}
	return out
}

func (s *Server) DeleteUserContext(ctx context.Context, _ jarvis.DeleteUserContextRequestObject) (jarvis.DeleteUserContextResponseObject, error) {
	o, perr := owner(ctx)
	if perr != nil {
		return problemOf(ctx, perr), nil
	}
	if err := s.contexts.Erase(ctx, o); err != nil {
		return nil, err
	}
	return jarvis.DeleteUserContext204Response{}, nil
}

func apiPreferences(p usercontext.Preferences) jarvis.Preferences {
	out := jarvis.Preferences{FavouriteModules: []jarvis.ModuleName{}, DefaultParams: []jarvis.DefaultParams{}}
	for _, m := range p.FavouriteModules {
		out.FavouriteModules = append(out.FavouriteModules, jarvis.ModuleName(m))
	}
	for _, d := range p.DefaultParams {
		out.DefaultParams = append(out.DefaultParams, jarvis.DefaultParams{OperationId: jarvis.ActionOperationId(d.OperationID), Params: d.Params})
	}
	format := jarvis.PreferencesOutputFormat(p.OutputFormat)
	out.OutputFormat = &format
	jc, errs := p.Notifications.JobCompletion, p.Notifications.Errors
	out.Notifications = &jarvis.Notifications{JobCompletion: &jc, Errors: &errs}
	return out
}

func apiRecommendations(recs []usercontext.Recommendation) []jarvis.Recommendation {
	out := make([]jarvis.Recommendation, 0, len(recs))
	for _, r := range recs {
		out = append(out, jarvis.Recommendation{OperationId: jarvis.ActionOperationId(r.OperationID), Params: r.Params, Reason: r.Reason})
	}
	return out
}

// recommendationsFor are the caller's suggested next calls for getIntegrationInfo; they are
// a courtesy, so a failure to read them leaves them out rather than failing the call.
func (s *Server) recommendationsFor(ctx context.Context) []jarvis.Recommendation {
	if s.contexts == nil {
		return nil
	}
	p, ok := services.PrincipalFrom(ctx)
	if !ok {
		return nil
	}
	readCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	recs, err := s.contexts.Recommendations(readCtx, p.Owner())
	if err != nil {
		return nil
	}
	return apiRecommendations(recs)
}
