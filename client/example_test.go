package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/procurement/atlassian-installer/client"
)

// fakeAPI answers the few calls the examples make, as the reference does.
func fakeAPI() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /commerce/api/v2/entitlements/{id}/details", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"entitlementId":"`+r.PathValue("id")+`","version":3,"transactionAccountId":"txa-1","invoiceGroupId":"ig-1",
			"relatesFromEntitlements":[{"entitlementId":"fc-1","relationshipType":"FAMILY_CONTAINER"}],
			"subscriptionv2":{"billingPeriodDetails":{"billingAnchorTimestamp":1752745039000}}}`)
	})
	mux.HandleFunc("POST /admin/v2/orgs/{org}/workspaces", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":[{"id":"ari:cloud:jira-software::site/4745a76c","attributes":{"name":"acme","hostUrl":"https://acme.atlassian.net"}}],"links":{"next":null}}`)
	})
	mux.HandleFunc("POST /admin/installations/v2/orgs/{org}/products", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":{"statusUrl":"http://`+r.Host+`/admin/installations/v2/orgs/`+r.PathValue("org")+`/products/status/6664d179"}}`)
	})
	mux.HandleFunc("GET /commerce/api/v2/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-42")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"order not found"}`)
	})
	return httptest.NewServer(mux)
}

func ExampleNewClient() {
	api := fakeAPI()
	defer api.Close()

	c, err := client.NewClient(
		client.WithBaseURL(api.URL), // default: https://api.atlassian.com
		client.WithAPIKey("org-api-key"),
	)
	if err != nil {
		log.Fatal(err)
	}
	d, _, err := c.Commerce.GetEntitlementDetails(context.Background(), "58146793")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.TransactionAccountID, d.InvoiceGroupID, d.FamilyContainerID(), d.BillingAnchorTimestamp())
	// Credentials are never printed.
	fmt.Println(strings.Contains(fmt.Sprintf("%+v %#v", c, *c), "org-api-key"))
	// Output:
	// txa-1 ig-1 fc-1 1752745039000
	// false
}

func ExampleWorkspacesService_QueryIter() {
	api := fakeAPI()
	defer api.Close()
	c, _ := client.NewClient(client.WithBaseURL(api.URL), client.WithAPIKey("org-api-key"))

	q := client.WorkspaceQuery{Query: client.WorkspaceQueryFilter{
		Field: client.WorkspaceQueryField{Name: "attributes.name", Values: []string{"acme"}},
	}}
	for w, err := range c.Workspaces.QueryIter(context.Background(), "org-1", q) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(w.Attributes.Name, w.ID)
	}
	// Output: acme ari:cloud:jira-software::site/4745a76c
}

func ExampleProvisionRequestID() {
	api := fakeAPI()
	defer api.Close()
	c, _ := client.NewClient(client.WithBaseURL(api.URL), client.WithAPIKey("org-api-key"))

	prov, _, err := c.Installations.ProvisionProducts(context.Background(), "org-1", &client.ProvisionRequest{
		Offerings:  []client.ProvisionOffering{{ID: "39605741-b92f-4763-8229-7bba2d16433c", Location: "us"}},
		Parameters: client.ProvisionParameters{AdminEmail: "admin@example.com", Name: "acme-2", Timezone: "Australia/Sydney"},
	})
	if err != nil {
		log.Fatal(err)
	}
	// The order placed next names the provisioning request.
	id, _ := client.ProvisionRequestID(prov.Data.StatusURL)
	fmt.Println(id)
	// Output: 6664d179
}

func ExampleErrorResponse() {
	api := fakeAPI()
	defer api.Close()
	c, _ := client.NewClient(client.WithBaseURL(api.URL), client.WithAPIKey("org-api-key"))

	_, _, err := c.Commerce.GetOrder(context.Background(), "missing", "txa-1")
	var rl *client.RateLimitError
	var er *client.ErrorResponse
	switch {
	case errors.As(err, &rl):
		fmt.Println("retry after", rl.RetryAfter)
	case errors.As(err, &er):
		fmt.Println(er.StatusCode, er.Message, er.RequestID)
	}
	// Output: 404 order not found req-42
}

func ExampleInstallationsService_GetProvisionStatus() {
	c, _ := client.NewClient(client.WithAPIKey("org-api-key"))

	// A statusUrl pointing anywhere but the configured API is refused
	// before any request, so credentials never go there.
	_, _, err := c.Installations.GetProvisionStatus(context.Background(),
		"https://api.atlassian.com@evil.example/admin/installations/v2/orgs/o/products/status/r1")
	fmt.Println(errors.Is(err, client.ErrUntrustedStatusURL))
	// Output: true
}
