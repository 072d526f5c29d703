package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/procurement/atlassian-installer/client"
)

func (a *app) apiEntitlementsCmd(f *apiFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "entitlements", Short: "Product entitlements and entitlement details", Args: cobra.NoArgs}
	cmd.AddCommand(
		a.apiLeaf(f, "list ORG_ID PRODUCT_ARI", "List the entitlements of a product instance", 2,
			func(ctx context.Context, c *client.Client, args []string) (any, error) {
				v, _, err := c.Installations.ListProductEntitlements(ctx, args[0], args[1])
				return v, err
			}),
		a.apiLeaf(f, "details ENTITLEMENT_ID", "Show an entitlement's details: billing, subscription, relations", 1,
			func(ctx context.Context, c *client.Client, args []string) (any, error) {
				v, _, err := c.Commerce.GetEntitlementDetails(ctx, args[0])
				return v, err
			}),
	)
	return cmd
}

func (a *app) apiWorkspacesCmd(f *apiFlags) *cobra.Command {
	var (
		field  string
		values []string
		limit  int
		all    bool
	)
	cmd := a.apiLeaf(f, "workspaces ORG_ID", "Query the organization's workspaces (product instances)", 1,
		func(ctx context.Context, c *client.Client, args []string) (any, error) {
			q := client.WorkspaceQuery{Limit: limit}
			if len(values) > 0 {
				q.Query.Field = client.WorkspaceQueryField{Name: field, Values: values}
			}
			if !all {
				v, _, err := c.Workspaces.Query(ctx, args[0], &q)
				return v, err
			}
			list := []client.Workspace{}
			for w, err := range c.Workspaces.QueryIter(ctx, args[0], q) {
				if err != nil {
					return nil, err
				}
				list = append(list, w)
			}
			return list, nil
		})
	cmd.Example = "  installctl api workspaces ORG_ID --value acme\n  installctl api workspaces ORG_ID --field attributes.typeKey --value jira-software --all"
	cmd.Flags().StringVar(&field, "field", "attributes.name", "field to filter on")
	cmd.Flags().StringSliceVar(&values, "value", nil, "value(s) the field may have (repeat or comma-separate)")
	cmd.Flags().IntVar(&limit, "limit", 0, "page size")
	cmd.Flags().BoolVar(&all, "all", false, "follow every page and print a JSON array of workspaces")
	return cmd
}

func (a *app) apiProvisionCmd(f *apiFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provision",
		Short: "Provision products or an app, and read a provisioning status",
		Long: `Send provisioning requests directly. Careful: provisioning without an order within the
order window fails; the installer does both for you.`,
		Args: cobra.NoArgs,
	}
	var productsFile, appFile string
	products := a.apiLeaf(f, "products ORG_ID", "Provision product instances (new or existing site)", 1,
		func(ctx context.Context, c *client.Client, args []string) (any, error) {
			var req client.ProvisionRequest
			if err := a.readBody(productsFile, &req); err != nil {
				return nil, err
			}
			v, _, err := c.Installations.ProvisionProducts(ctx, args[0], &req)
			return v, err
		})
	bodyFlag(products, &productsFile)
	app := a.apiLeaf(f, "app ORG_ID PRODUCT_ARI", "Provision an app on a product instance", 2,
		func(ctx context.Context, c *client.Client, args []string) (any, error) {
			var req client.ProvisionRequest
			if err := a.readBody(appFile, &req); err != nil {
				return nil, err
			}
			v, _, err := c.Installations.ProvisionApp(ctx, args[0], args[1], &req)
			return v, err
		})
	bodyFlag(app, &appFile)
	cmd.AddCommand(products, app,
		a.apiLeaf(f, "status STATUS_URL", "Read a provisioning status (the statusUrl of a provisioning answer)", 1,
			func(ctx context.Context, c *client.Client, args []string) (any, error) {
				v, _, err := c.Installations.GetProvisionStatus(ctx, args[0])
				return v, err
			}),
	)
	return cmd
}

func (a *app) apiOrdersCmd(f *apiFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "orders", Short: "Place and read commerce orders", Args: cobra.NoArgs}
	var (
		file string
		v1   bool
		ta   string
	)
	create := a.apiLeaf(f, "create", "Place an order (idempotent by its orderId)", 0,
		func(ctx context.Context, c *client.Client, _ []string) (any, error) {
			var req client.OrderRequest
			if err := a.readBody(file, &req); err != nil {
				return nil, err
			}
			if v1 {
				v, _, err := c.Commerce.CreateOrderV1(ctx, &req)
				return v, err
			}
			v, _, err := c.Commerce.CreateOrder(ctx, &req)
			return v, err
		})
	bodyFlag(create, &file)
	create.Flags().BoolVar(&v1, "v1", false, "use /commerce/api/v1/orders")
	get := a.apiLeaf(f, "get ORDER_ID", "Read an order and its items' processing status", 1,
		func(ctx context.Context, c *client.Client, args []string) (any, error) {
			v, _, err := c.Commerce.GetOrder(ctx, args[0], ta)
			return v, err
		})
	get.Flags().StringVar(&ta, "transaction-account", "", "transaction account id (header X-transaction-account)")
	cmd.AddCommand(create, get)
	return cmd
}
