package atlassiantest_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
)

// BenchmarkJourney is one product journey (workspace look-up, entitlement
// details, provisioning, order, status and order polls) through the client
// over loopback, with the sandbox's delays at zero.
func BenchmarkJourney(b *testing.B) {
	s := atlassiantest.NewServer(atlassiantest.WithProvisionDelay(0), atlassiantest.WithOrderProcessingDelay(0))
	defer s.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	c, err := s.Client(client.WithHTTPClient(&http.Client{Transport: tr}),
		client.WithRateLimit(client.FamilyOrders, 1<<30), client.WithRateLimit(client.FamilyQuotes, 1<<30), client.WithRateLimit(client.FamilyEntitlementDetails, 1<<30))
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := journey(ctx, c, fmt.Sprintf("bench-%d", n.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func journey(ctx context.Context, c *client.Client, site string) error {
	if _, _, err := c.Workspaces.Query(ctx, atlassiantest.OrgID, &client.WorkspaceQuery{Query: client.WorkspaceQueryFilter{
		Field: client.WorkspaceQueryField{Name: "attributes.name", Values: []string{site}}}}); err != nil {
		return err
	}
	if _, _, err := c.Commerce.GetEntitlementDetails(ctx, atlassiantest.ConfluenceParentEntitlementID); err != nil {
		return err
	}
	prov, _, err := c.Installations.ProvisionProducts(ctx, atlassiantest.OrgID, &client.ProvisionRequest{
		Offerings:  []client.ProvisionOffering{{ID: atlassiantest.ConfluenceOfferingID, Location: "us"}},
		Parameters: client.ProvisionParameters{AdminEmail: "admin@acme.example", Name: site, Timezone: "UTC"}})
	if err != nil {
		return err
	}
	pid, err := client.ProvisionRequestID(prov.Data.StatusURL)
	if err != nil {
		return err
	}
	req := newOrder("order-"+site, pid, item("O1", atlassiantest.ConfluenceOfferingID, entRel(client.RelationEnterprise, atlassiantest.ConfluenceParentEntitlementID)))
	if _, _, err := c.Commerce.CreateOrder(ctx, &req); err != nil {
		return err
	}
	st, _, err := c.Installations.GetProvisionStatus(ctx, prov.Data.StatusURL)
	if err != nil {
		return err
	}
	o, _, err := c.Commerce.GetOrder(ctx, req.OrderID, req.TransactionAccountID)
	if err != nil {
		return err
	}
	if st.Data.Status != client.ProvisionCompleted || o.Items[0].ProcessingInfo.Status != client.ItemSuccess {
		return fmt.Errorf("journey %s: status %s, item %s", site, st.Data.Status, o.Items[0].ProcessingInfo.Status)
	}
	return nil
}
