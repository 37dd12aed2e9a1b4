package handlers

import (
	"context"
	"time"

	"github.com/aidawg/jarvis/gen/jarvis"
	"github.com/aidawg/jarvis/services"
	"github.com/aidawg/jarvis/services/scaling"
)

// ScalingService sizes Jarvis's own pools.
type ScalingService interface {
	Manage(ctx context.Context, who string, r scaling.Request) (scaling.Report, error)
}

// ManageScaling reads or changes the limits of Jarvis's own pools; Jarvis carries it out
// itself rather than an AI Dawg module, since the pools are its own.
func (s *Server) ManageScaling(ctx context.Context, req jarvis.ManageScalingRequestObject) (jarvis.ManageScalingResponseObject, error) {
	started := time.Now()
	b := req.Body
	r := scaling.Request{Action: string(b.Action), Instances: b.Instances, TargetValue: b.TargetValue}
	if b.Resource != nil {
		r.Pool = string(*b.Resource)
	}
	if b.TargetMetric != nil {
		r.TargetMetric = string(*b.TargetMetric)
	}
	if b.Reason != nil {
		r.Reason = *b.Reason
	}
	if c := b.Constraints; c != nil {
		r.MinInstances, r.MaxInstances, r.MaxCost = c.MinInstances, c.MaxInstances, c.MaxCost
	}
	who := "unknown"
	if p, ok := services.PrincipalFrom(ctx); ok {
		who = p.Subject()
	}
	rep, err := s.deps.Scaling.Manage(ctx, who, r)
	if err != nil {
		return failed(ctx, err)
	}
	out := jarvis.ScalingReport{Action: jarvis.ScalingReportAction(rep.Action), Resources: []jarvis.ResourceStatus{},
		Changes: apiChanges(rep.Changes), History: apiChanges(rep.History), Notes: rep.Notes}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	for _, st := range rep.Resources {
		rs := jarvis.ResourceStatus{Resource: jarvis.ResourceStatusResource(st.Pool), Instances: st.Limit,
			MinInstances: st.Min, MaxInstances: st.Max, InUse: st.InUse, QueueDepth: st.QueueDepth,
			Utilization: round3(st.Utilization), CostPerInstanceHour: st.CostPerSlotHour, CostPerHour: round3(st.CostPerHour)}
		if st.P95 != nil {
			ms := round3(float64(*st.P95) / float64(time.Millisecond))
			rs.P95LatencyMs = &ms
		}
		if st.Fixed != "" {
			fixed := st.Fixed
			rs.Fixed = &fixed
		}
		out.Resources = append(out.Resources, rs)
	}
	out.Memory.HeapBytes, out.Memory.TotalBytes = int(rep.Memory.HeapBytes), int(rep.Memory.TotalBytes)
	if rep.Memory.LimitBytes > 0 {
		limit := int(rep.Memory.LimitBytes)
		out.Memory.LimitBytes = &limit
	}
	return jarvis.ManageScaling200JSONResponse{Scaling: out, Meta: meta(ctx, jarvis.Jarvis, started)}, nil
}

func apiChanges(list []scaling.Change) []jarvis.ScalingChange {
	out := make([]jarvis.ScalingChange, len(list))
	for i, c := range list {
		out[i] = jarvis.ScalingChange{Resource: c.Pool, FromInstances: c.From, ToInstances: c.To,
			Action: jarvis.ScalingChangeAction(c.Action), Reason: c.Reason, By: c.By, At: c.At}
	}
	return out
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }
