package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/storage"
)

// Service creates, changes, reads and deletes workflows.
type Service struct {
	store    *Store
	pipeline Pipeline
	now      func() time.Time
}

// New returns the service over db; pipeline checks the steps against the contract, and now is
// the clock schedules are reckoned from.
func New(db *storage.DB, pipeline Pipeline, now func() time.Time) *Service {
	return &Service{store: NewStore(db), pipeline: pipeline, now: now}
}

// Store is the service's store.
func (s *Service) Store() *Store { return s.store }

// actorOf is who the caller's workflows act as.
func actorOf(p services.Principal) Actor {
	scopes := slices.Clone(p.Scopes)
	slices.Sort(scopes)
	return Actor{KeyID: p.KeyID, Method: p.Method, Scopes: scopes}
}

// nextRun is the first time after now the schedule names, nil without one.
func nextRun(expr string, now time.Time) *time.Time {
	if expr == "" {
		return nil
	}
	sched, err := parseSchedule(expr)
	if err != nil {
		return nil
	}
	t := sched.Next(now.UTC())
	if t.IsZero() {
		return nil
	}
	return &t
}

// Create checks spec and stores it as the caller's workflow.
func (s *Service) Create(ctx context.Context, p services.Principal, spec Spec) (Workflow, error) {
	spec, err := check(s.pipeline, spec)
	if err != nil {
		return Workflow{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	w := Workflow{Owner: p.Owner(), Actor: actorOf(p), Spec: spec, NextRunAt: nextRun(spec.Schedule, now), CreatedAt: now, UpdatedAt: now}
	if err := s.store.insert(ctx, &w); err != nil {
		return Workflow{}, fmt.Errorf("store workflow: %w", err)
	}
	return w, nil
}

// Update replaces the definition of the caller's workflow; its runs act as the caller from
// then on.
func (s *Service) Update(ctx context.Context, p services.Principal, id string, spec Spec) (Workflow, error) {
	w, err := s.Get(ctx, p.Owner(), id)
	if err != nil {
		return Workflow{}, err
	}
	if spec, err = check(s.pipeline, spec); err != nil {
		return Workflow{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	w.Spec, w.Actor, w.UpdatedAt = spec, actorOf(p), now
	w.NextRunAt = nextRun(spec.Schedule, now)
	if err := s.store.replace(ctx, w); err != nil {
		if errors.Is(err, ErrNotFound) {
			return Workflow{}, notFound(id)
		}
		return Workflow{}, fmt.Errorf("store workflow: %w", err)
	}
	return w, nil
}

// Get reads the owner's workflow; another owner's id is not found.
func (s *Service) Get(ctx context.Context, owner services.Owner, id string) (Workflow, error) {
	w, err := s.store.Get(ctx, owner, id)
	if errors.Is(err, ErrNotFound) {
		return Workflow{}, notFound(id)
	}
	return w, err
}

// Delete removes the owner's workflow. Runs already started carry on.
func (s *Service) Delete(ctx context.Context, owner services.Owner, id string) error {
	err := s.store.Delete(ctx, owner, id)
	if errors.Is(err, ErrNotFound) {
		return notFound(id)
	}
	return err
}

// List pages through the owner's workflows, newest first.
func (s *Service) List(ctx context.Context, owner services.Owner, cursor string, limit int) (Page, error) {
	page, err := s.store.List(ctx, owner, cursor, limit)
	if errors.Is(err, ErrBadCursor) {
		return Page{}, &services.Error{Code: services.CodeValidation, Detail: "The cursor is not one this server wrote. Give the nextCursor of the previous page, or leave it out for the first page.",
			Fields: []services.FieldError{{Field: "/cursor", Message: "is not a cursor this server wrote"}}}
	}
	return page, err
}

func notFound(id string) *services.Error {
	return services.Errorf(services.CodeNotFound,
		"There is no workflow %q among yours. Use the id create answered, or call manageWorkflows with action list to find it.", id)
}
