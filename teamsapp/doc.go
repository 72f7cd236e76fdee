// Package teamsapp serves the MultiLine personal tab: the web UI employees open in
// Teams, its REST API under /api/v1, live updates over Server-Sent Events, sign-in
// with the Teams SSO token (and a dev sign-in in local mode), and the admin page.
//
// The package talks to the domain only through the Bridge interface (implemented by
// *bridge.Service) and to stored media through MediaStore, so it can be tested with
// in-memory implementations and several replicas can serve it behind a load
// balancer: nothing but the signing key is kept in the process.
package teamsapp
