package atlassiantest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
)

// A Confluence install on a new site, driven by a fake clock: provisioning
// waits for its order, the order's item succeeds after the processing delay,
// and provisioning completes after the provisioning delay.
func ExampleNewServer() {
	clock := clockwork.NewFakeClock()
	s := atlassiantest.NewServer(atlassiantest.WithClock(clock))
	defer s.Close()
	c, _ := s.Client()
	ctx := context.Background()

	prov, _, _ := c.Installations.ProvisionProducts(ctx, atlassiantest.OrgID, &client.ProvisionRequest{
		Offerings:  []client.ProvisionOffering{{ID: atlassiantest.ConfluenceOfferingID, Location: "us"}},
		Parameters: client.ProvisionParameters{AdminEmail: "admin@example.com", Name: "example", Timezone: "UTC"},
	})
	pid, _ := client.ProvisionRequestID(prov.Data.StatusURL)
	_, _, err := c.Commerce.CreateOrder(ctx, &client.OrderRequest{
		OrderID: "example-order", TransactionAccountID: atlassiantest.TransactionAccountID, InvoiceGroupID: atlassiantest.InvoiceGroupID,
		Items: []client.OrderItem{{Type: client.OrderItemCreation, ItemID: "O1", OfferingID: atlassiantest.ConfluenceOfferingID,
			RelatesFromEntitlements: []client.OrderItemRelation{{RelationshipType: client.RelationEnterprise,
				ReferenceType: client.ReferenceEntitlement, EntitlementID: atlassiantest.ConfluenceParentEntitlementID}}}},
		Metadata: client.OrderMetadata{ProvisionRequestID: pid},
	})
	fmt.Println("order accepted:", err == nil)

	st, _, _ := c.Installations.GetProvisionStatus(ctx, prov.Data.StatusURL)
	fmt.Println("provisioning:", st.Data.Status)
	clock.Advance(2 * time.Second)
	st, _, _ = c.Installations.GetProvisionStatus(ctx, prov.Data.StatusURL)
	o, _, _ := c.Commerce.GetOrder(ctx, "example-order", atlassiantest.TransactionAccountID)
	fmt.Println("provisioning:", st.Data.Status, "item:", o.Items[0].ProcessingInfo.Status)
	// Output:
	// order accepted: true
	// provisioning: IN_PROGRESS
	// provisioning: COMPLETED item: SUCCESS
}
