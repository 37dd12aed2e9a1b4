package app

import (
	"slices"

	"github.com/labstack/echo/v4"
)

// layeredRouter adds routes to a group with the group's layers wrapped around each handler once,
// when the route is added. Echo applies a group's and a route's middleware anew on every request,
// which makes a closure per layer per call on the API's hottest path.
type layeredRouter struct {
	group  *echo.Group
	layers []echo.MiddlewareFunc
}

func (r layeredRouter) wrap(h echo.HandlerFunc, route []echo.MiddlewareFunc) echo.HandlerFunc {
	all := append(slices.Clone(r.layers), route...)
	for i := len(all) - 1; i >= 0; i-- {
		h = all[i](h)
	}
	return h
}

// answerUnmatched makes requests under the group that match no route go through the layers
// too, as Group.Use arranges, so that they are authenticated, logged and answered 404 or 405
// by validation like any other.
func (r layeredRouter) answerUnmatched() {
	r.group.RouteNotFound("", r.wrap(echo.NotFoundHandler, nil))
	r.group.RouteNotFound("/*", r.wrap(echo.NotFoundHandler, nil))
}

func (r layeredRouter) CONNECT(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.group.CONNECT(path, r.wrap(h, m))
}

func (r layeredRouter) DELETE(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.group.DELETE(path, r.wrap(h, m))
}

func (r layeredRouter) GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.group.GET(path, r.wrap(h, m))
}

func (r layeredRouter) HEAD(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.group.HEAD(path, r.wrap(h, m))
}

func (r layeredRouter) OPTIONS(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.group.OPTIONS(path, r.wrap(h, m))
}

func (r layeredRouter) PATCH(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.group.PATCH(path, r.wrap(h, m))
}

func (r layeredRouter) POST(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.group.POST(path, r.wrap(h, m))
}

func (r layeredRouter) PUT(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.group.PUT(path, r.wrap(h, m))
}

func (r layeredRouter) TRACE(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.group.TRACE(path, r.wrap(h, m))
}
