package handlers

import (
	"context"
	"strings"

	"github.com/aidawg/jarvis/gen/jarvis"
)

func (s *Server) GetIntegrationInfo(ctx context.Context, _ jarvis.GetIntegrationInfoRequestObject) (jarvis.GetIntegrationInfoResponseObject, error) {
	doc := s.spec.Doc
	info := jarvis.IntegrationInfo{
		Name:        doc.Info.Title,
		Version:     s.opts.Version,
		Description: doc.Info.Summary,
		Modules:     []jarvis.ModuleInfo{},
		AuthMethods: []jarvis.IntegrationInfoAuthMethods{},
		Limits:      []jarvis.RateLimitInfo{},
	}
	for _, m := range s.spec.Modules() {
		mi := jarvis.ModuleInfo{Name: m.Name, Description: m.Description, Operations: make([]jarvis.OperationInfo, 0, len(m.Operations))}
		for _, o := range m.Operations {
			available := s.Available(o.ID)
			mi.Operations = append(mi.Operations, jarvis.OperationInfo{
				OperationId:   o.ID,
				Method:        o.Method,
				Path:          o.Path,
				Summary:       o.Summary,
				Long:          o.Long,
				Consequential: o.Consequential,
				Available:     &available,
			})
		}
		info.Modules = append(info.Modules, mi)
	}
	for _, m := range s.opts.AuthMethods {
		info.AuthMethods = append(info.AuthMethods, jarvis.IntegrationInfoAuthMethods(m))
	}
	info.Limits = s.callerLimits(ctx)
	base := strings.TrimRight(s.opts.PublicURL, "/")
	docs := base + "/docs"
	info.Links = jarvis.IntegrationLinks{Openapi: base + "/openapi.yaml", Docs: &docs}
	info.Recommendations = s.recommendationsFor(ctx)
	return jarvis.GetIntegrationInfo200JSONResponse(info), nil
}
