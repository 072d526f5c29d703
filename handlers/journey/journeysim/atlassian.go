package journeysim

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"time"

	"github.com/procurement/atlassian-installer/client"
)

// The organization, site and look-up answers of the simulated Atlassian.
const (
	OrgID          = "org-1"
	SiteName       = "site-1"
	TxAccountID    = "txa-1"
	InvoiceGroupID = "ig-1"
	// ParentEntitlementID is an Enterprise parent whose details give the billing.
	ParentEntitlementID = "ent-parent"
	jiraEntitlement     = "ent-jira"
	confEntitlement     = "ent-confluence"
	familyContainer     = "ent-family"
	jiraARI             = "ari:cloud:jira-software::site/cloud-1"
	confARI             = "ari:cloud:confluence::site/cloud-1"
)

// Faults are the chances of what goes wrong at the simulated Atlassian, drawn for each run.
type Faults struct {
	// Call is the chance that a call fails (see fault): answered 429, 503 or 500, not
	// sent, its answer lost, or hung until its deadline; a POST's effect may be applied
	// all the same.
	Call float64
	// ReadLag bounds how long a new order or provisioning request reads as 404.
	ReadLag time.Duration
	// ProvisionFails is the chance that a provisioning request ends FAILED or TIMED_OUT.
	ProvisionFails float64
	// ItemsFail is the chance that an order's items end FAILED.
	ItemsFail float64
	// ProvisionDelay and OrderDelay bound how long provisioning and the order's items take.
	ProvisionDelay, OrderDelay time.Duration
}

// Atlassian is a simulated Atlassian API: the Installations, Commerce and Workspaces a
// journey calls (API), with faults drawn from the run's random source, and its own truth
// of what was provisioned and ordered, which the invariants are checked against. Like the
// real API, an order is idempotent on its orderId, refused without a provisioning request
// not yet ordered, and refused once the provisioning request is older than the window; a
// provisioning request not ordered within the window ends FAILED.
type Atlassian struct {
	clock  *Clock
	rnd    *rand.Rand
	faults Faults
	window time.Duration
	trace  *Trace
	errs   *errorMint
	// afterEffect, when set, is called once a POST's effect is applied, before its answer
	// is returned: the simulation may crash the caller there.
	afterEffect func(what string)

	provisions []*provision
	orders     []*order

	// OrderPosts are the order POSTs that reached the API, in order.
	OrderPosts []OrderPost
	// OrderAnswersLost counts the order POSTs whose answer the caller did not see.
	OrderAnswersLost int
}

type provision struct {
	id        string
	createdAt time.Time
	endsAs    string // "" or FAILED / TIMED_OUT
	delay     time.Duration
	orderID   string
	orderedAt time.Time
}

type order struct {
	req       client.OrderRequest
	resp      client.OrderResponse
	createdAt time.Time
	visibleAt time.Time
	doneAt    time.Time
	itemsFail bool
}

// OrderPost is an order POST as the API received it.
type OrderPost struct {
	At      time.Time
	OrderID string
	// ProvisionedAt is when its provisioning request was received; zero when it names none
	// the API knows.
	ProvisionedAt time.Time
	// Accepted: the POST created the order (not a repeat of its orderId, not refused).
	Accepted bool
}

// NewAtlassian returns a simulated Atlassian on clock whose provisioning requests must be
// ordered within window.
func NewAtlassian(clock *Clock, rnd *rand.Rand, faults Faults, window time.Duration, trace *Trace) *Atlassian {
	return &Atlassian{clock: clock, rnd: rnd, faults: faults, window: window, trace: trace, errs: newErrorMint()}
}

// Installations is the simulated Installations API.
func (a *Atlassian) Installations() Installations { return Installations{a} }

// Commerce is the simulated Commerce API.
func (a *Atlassian) Commerce() Commerce { return Commerce{a} }

// Workspaces is the simulated Workspaces API.
func (a *Atlassian) Workspaces() Workspaces { return Workspaces{a} }

// ProvisionsSent counts the provisioning requests the API received.
func (a *Atlassian) ProvisionsSent() int { return len(a.provisions) }

// OrdersAccepted lists the orderIds of the orders the API accepted.
func (a *Atlassian) OrdersAccepted() []string {
	ids := make([]string, 0, len(a.orders))
	for _, o := range a.orders {
		ids = append(ids, o.req.OrderID)
	}
	return ids
}

// notProvisioned says why the order and its provisioning are not complete as of now; ""
// when they are.
func (a *Atlassian) notProvisioned(orderID string) string {
	o := a.orderByID(orderID)
	switch {
	case o == nil:
		return "Atlassian accepted no order " + orderID
	case o.itemsFail:
		return "the order's items failed"
	case a.clock.Now().Before(o.doneAt):
		return "the order's items are still processing"
	}
	p := a.provisionByID(o.resp.Metadata.ProvisionRequestID)
	if s := p.status(a.clock.Now(), a.window); s != client.ProvisionCompleted {
		return "its provisioning request is " + s
	}
	return ""
}

// provisioningFailed reports whether a provisioning request ended FAILED or TIMED_OUT.
func (a *Atlassian) provisioningFailed() bool {
	for _, p := range a.provisions {
		if s := p.status(a.clock.Now(), a.window); s == client.ProvisionFailed || s == client.ProvisionTimedOut {
			return true
		}
	}
	return false
}

func (a *Atlassian) chance(p float64) bool { return p > 0 && a.rnd.Float64() < p }

func (a *Atlassian) upTo(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(a.rnd.Int64N(int64(d)))
}

var okResponse = &client.Response{}

// Installations is the simulated Atlassian's Installations API.
type Installations struct{ a *Atlassian }

// ListProductEntitlements answers the host product's entitlement.
func (s Installations) ListProductEntitlements(ctx context.Context, orgID, productARI string) (*client.ProductEntitlements, *client.Response, error) {
	a := s.a
	f := a.draw(ctx, "GET entitlements "+productARI, false)
	if f != nil {
		return nil, nil, a.fail(ctx, f, func(ctx context.Context, c *client.Client) error {
			_, _, err := c.Installations.ListProductEntitlements(ctx, orgID, productARI)
			return err
		})
	}
	ent := map[string]string{jiraARI: jiraEntitlement, confARI: confEntitlement}[productARI]
	if ent == "" || orgID != OrgID {
		return nil, nil, a.refuse(ctx, 404, func(ctx context.Context, c *client.Client) error {
			_, _, err := c.Installations.ListProductEntitlements(ctx, orgID, productARI)
			return err
		})
	}
	return &client.ProductEntitlements{Entitlements: []client.ProductEntitlement{{EntitlementID: ent, ProvisioningStatus: "ACTIVE"}}}, okResponse, nil
}

// ProvisionProducts receives a provisioning request for products.
func (s Installations) ProvisionProducts(ctx context.Context, orgID string, req *client.ProvisionRequest) (*client.ProvisionResponse, *client.Response, error) {
	return s.a.provision(ctx, func(ctx context.Context, c *client.Client) error {
		_, _, err := c.Installations.ProvisionProducts(ctx, orgID, req)
		return err
	})
}

// ProvisionApp receives a provisioning request for an app.
func (s Installations) ProvisionApp(ctx context.Context, orgID, productARI string, req *client.ProvisionRequest) (*client.ProvisionResponse, *client.Response, error) {
	return s.a.provision(ctx, func(ctx context.Context, c *client.Client) error {
		_, _, err := c.Installations.ProvisionApp(ctx, orgID, productARI, req)
		return err
	})
}

func (a *Atlassian) provision(ctx context.Context, real func(context.Context, *client.Client) error) (*client.ProvisionResponse, *client.Response, error) {
	f := a.draw(ctx, "POST provisioning", true)
	if f != nil && !f.applied {
		return nil, nil, a.fail(ctx, f, real)
	}
	p := &provision{id: fmt.Sprintf("prov-%d", len(a.provisions)+1), createdAt: a.clock.Now(),
		delay: time.Second + a.upTo(a.faults.ProvisionDelay)}
	if a.chance(a.faults.ProvisionFails) {
		p.endsAs = client.ProvisionFailed
		if a.rnd.IntN(2) == 0 {
			p.endsAs = client.ProvisionTimedOut
		}
	}
	a.provisions = append(a.provisions, p)
	a.trace.Add(a.clock.Now(), "atlassian: provisioning request %s received (ends %s)", p.id, orDefault(p.endsAs, "ok"))
	a.applied("the provisioning request")
	if f != nil {
		return nil, nil, a.fail(ctx, f, real)
	}
	resp := &client.ProvisionResponse{}
	resp.Data.StatusURL = client.DefaultBaseURL + "admin/installations/v2/orgs/" + OrgID + "/products/status/" + p.id
	return resp, okResponse, nil
}

// GetProvisionStatus reads a provisioning request's status.
func (s Installations) GetProvisionStatus(ctx context.Context, statusURL string) (*client.ProvisionStatus, *client.Response, error) {
	a := s.a
	real := func(ctx context.Context, c *client.Client) error {
		_, _, err := c.Installations.GetProvisionStatus(ctx, statusURL)
		return err
	}
	if err := a.errs.client.Installations.CheckStatusURL(statusURL); err != nil {
		return nil, nil, err
	}
	if f := a.draw(ctx, "GET provisioning status", false); f != nil {
		return nil, nil, a.fail(ctx, f, real)
	}
	id, _ := client.ProvisionRequestID(statusURL)
	p := a.provisionByID(id)
	now := a.clock.Now()
	if p == nil || now.Before(p.createdAt.Add(a.faults.ReadLag)) && a.rnd.IntN(2) == 0 {
		return nil, nil, a.refuse(ctx, 404, real)
	}
	out := &client.ProvisionStatus{}
	out.Data.RequestID, out.Data.Status = p.id, p.status(now, a.window)
	return out, okResponse, nil
}

func (p *provision) status(now time.Time, window time.Duration) string {
	ordered := p.orderID != ""
	switch {
	case p.endsAs != "":
		start := p.createdAt
		if ordered {
			start = p.orderedAt
		}
		if !now.Before(start.Add(p.delay)) {
			return p.endsAs
		}
	case !ordered && now.Sub(p.createdAt) >= window:
		return client.ProvisionFailed
	case ordered && !now.Before(p.orderedAt.Add(p.delay)):
		return client.ProvisionCompleted
	}
	return client.ProvisionInProgress
}

// CheckStatusURL refuses a statusUrl the real client would refuse.
func (s Installations) CheckStatusURL(statusURL string) error {
	return s.a.errs.client.Installations.CheckStatusURL(statusURL)
}

// StatusURL is the statusUrl the real client builds.
func (s Installations) StatusURL(orgID, provisionRequestID string) string {
	return s.a.errs.client.Installations.StatusURL(orgID, provisionRequestID)
}

func (a *Atlassian) applied(what string) {
	if a.afterEffect != nil {
		a.afterEffect(what)
	}
}

func (a *Atlassian) provisionByID(id string) *provision {
	for _, p := range a.provisions {
		if p.id == id {
			return p
		}
	}
	return nil
}

// Commerce is the simulated Atlassian's Commerce API.
type Commerce struct{ a *Atlassian }

// GetEntitlementDetails answers the details of the fixtures' entitlements.
func (s Commerce) GetEntitlementDetails(ctx context.Context, entitlementID string) (*client.EntitlementDetails, *client.Response, error) {
	a := s.a
	real := func(ctx context.Context, c *client.Client) error {
		_, _, err := c.Commerce.GetEntitlementDetails(ctx, entitlementID)
		return err
	}
	if f := a.draw(ctx, "GET entitlement "+entitlementID, false); f != nil {
		return nil, nil, a.fail(ctx, f, real)
	}
	d := &client.EntitlementDetails{EntitlementID: entitlementID, TransactionAccountID: TxAccountID, InvoiceGroupID: InvoiceGroupID, Version: 1}
	switch entitlementID {
	case ParentEntitlementID, confEntitlement:
	case jiraEntitlement:
		d.RelatesFromEntitlements = []client.EntitlementRelation{{EntitlementID: familyContainer, RelationshipType: client.RelationFamilyContainer}}
	default:
		return nil, nil, a.refuse(ctx, 404, real)
	}
	return d, okResponse, nil
}

// CreateOrder receives an order: a repeated orderId answers the order it names.
func (s Commerce) CreateOrder(ctx context.Context, req *client.OrderRequest) (*client.OrderResponse, *client.Response, error) {
	a := s.a
	real := func(ctx context.Context, c *client.Client) error {
		_, _, err := c.Commerce.CreateOrder(ctx, req)
		return err
	}
	f := a.draw(ctx, "POST order", true)
	if f != nil && !f.applied {
		if f.mayBeProcessed() {
			a.OrderAnswersLost++
		}
		return nil, nil, a.fail(ctx, f, real)
	}
	resp, refusal := a.createOrder(req)
	a.applied("the order POST")
	if f != nil {
		a.OrderAnswersLost++
		return nil, nil, a.fail(ctx, f, real)
	}
	if refusal != "" {
		return nil, nil, a.refuse(ctx, 400, real)
	}
	return resp, okResponse, nil
}

func (a *Atlassian) createOrder(req *client.OrderRequest) (*client.OrderResponse, string) {
	now := a.clock.Now()
	post := OrderPost{At: now, OrderID: req.OrderID}
	p := a.provisionByID(req.Metadata.ProvisionRequestID)
	if p != nil {
		post.ProvisionedAt = p.createdAt
	}
	defer func() { a.OrderPosts = append(a.OrderPosts, post) }()
	if o := a.orderByID(req.OrderID); o != nil {
		a.trace.Add(now, "atlassian: order %s received again: answered as before", req.OrderID)
		resp := o.resp
		return &resp, ""
	}
	refusal := ""
	switch {
	case p == nil:
		refusal = "unknown provisioning request " + req.Metadata.ProvisionRequestID
	case p.orderID != "":
		refusal = "provisioning request already ordered by " + p.orderID
	case now.Sub(p.createdAt) >= a.window:
		refusal = "provisioning request timed out"
	}
	if refusal != "" {
		a.trace.Add(now, "atlassian: order %s refused: %s", req.OrderID, refusal)
		return nil, refusal
	}
	o := &order{req: *req, createdAt: now, visibleAt: now.Add(a.upTo(a.faults.ReadLag)),
		doneAt: now.Add(time.Second + a.upTo(a.faults.OrderDelay)), itemsFail: a.chance(a.faults.ItemsFail)}
	o.resp = client.OrderResponse{OrderID: req.OrderID, Slug: "R-" + req.OrderID[:8],
		TransactionAccountID: req.TransactionAccountID, InvoiceGroupID: req.InvoiceGroupID,
		Metadata: &client.OrderMetadata{ProvisionRequestID: p.id}}
	for i, it := range req.Items {
		o.resp.Items = append(o.resp.Items, client.OrderResponseItem{ItemID: it.ItemID, OrderItemID: fmt.Sprintf("%s-%d", req.OrderID, i+1)})
	}
	p.orderID, p.orderedAt = req.OrderID, now
	a.orders = append(a.orders, o)
	post.Accepted = true
	a.trace.Add(now, "atlassian: order %s accepted for %s (items fail: %t)", req.OrderID, p.id, o.itemsFail)
	resp := o.resp
	return &resp, ""
}

func (a *Atlassian) orderByID(id string) *order {
	for _, o := range a.orders {
		if o.req.OrderID == id {
			return o
		}
	}
	return nil
}

// GetOrder reads an order; a new one may read 404 for a while.
func (s Commerce) GetOrder(ctx context.Context, orderID, transactionAccountID string) (*client.Order, *client.Response, error) {
	a := s.a
	real := func(ctx context.Context, c *client.Client) error {
		_, _, err := c.Commerce.GetOrder(ctx, orderID, transactionAccountID)
		return err
	}
	if f := a.draw(ctx, "GET order", false); f != nil {
		return nil, nil, a.fail(ctx, f, real)
	}
	now := a.clock.Now()
	o := a.orderByID(orderID)
	if o == nil || o.req.TransactionAccountID != transactionAccountID || now.Before(o.visibleAt) {
		return nil, nil, a.refuse(ctx, 404, real)
	}
	out := &client.Order{OrderID: orderID, Slug: o.resp.Slug, TransactionAccountID: transactionAccountID,
		InvoiceGroupID: o.req.InvoiceGroupID, Metadata: o.resp.Metadata}
	done := !now.Before(o.doneAt)
	for i, it := range o.req.Items {
		info := &client.ProcessingInfo{Status: client.ItemProcessing}
		switch {
		case done && o.itemsFail:
			info = &client.ProcessingInfo{Status: client.ItemFailed, ReasonCode: "PROVISIONING_FAILURE"}
		case done:
			info = &client.ProcessingInfo{Status: client.ItemSuccess,
				Entitlement: &client.OrderEntitlement{ID: fmt.Sprintf("ent-%s-%d", orderID[:8], i+1), Version: "1"}}
		}
		out.Items = append(out.Items, client.OrderDetail{OrderItemID: o.resp.Items[i].OrderItemID, OfferingID: it.OfferingID,
			Type: it.Type, ProcessingInfo: info})
	}
	return out, okResponse, nil
}

// Workspaces is the simulated Atlassian's Workspaces API: the site has a Jira and a
// Confluence workspace.
type Workspaces struct{ a *Atlassian }

// QueryIter answers the site's workspaces, in one page.
func (s Workspaces) QueryIter(ctx context.Context, orgID string, q client.WorkspaceQuery) iter.Seq2[client.Workspace, error] {
	a := s.a
	return func(yield func(client.Workspace, error) bool) {
		if f := a.draw(ctx, "POST workspaces", false); f != nil {
			yield(client.Workspace{}, a.fail(ctx, f, func(ctx context.Context, c *client.Client) error {
				_, _, err := c.Workspaces.Query(ctx, orgID, &q)
				return err
			}))
			return
		}
		if orgID != OrgID {
			return
		}
		for _, w := range []struct{ id, typeKey, ent string }{
			{jiraARI, "jira-software", jiraEntitlement}, {confARI, "confluence", confEntitlement},
		} {
			ws := client.Workspace{ID: w.id, Type: "workspace"}
			ws.Attributes.Name, ws.Attributes.TypeKey = SiteName, w.typeKey
			ws.Relationships.Entitlement = []client.WorkspaceEntitlement{{ID: w.ent}}
			if !yield(ws, nil) {
				return
			}
		}
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
