package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/procurement/atlassian-installer/client"
)

func (a *app) apiCSMCmd(f *apiFlags) *cobra.Command {
	var cloudID string
	cmd := &cobra.Command{
		Use:   "csm",
		Short: "JSM customer service management: entitlement detail fields and entitlements",
		Args:  cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&cloudID, "cloud-id", a.env("ATLASSIAN_CLOUD_ID", ""), "cloud id of the JSM site (env ATLASSIAN_CLOUD_ID)")
	// leaf is apiLeaf with the cloud id checked first.
	leaf := func(use, short string, nargs int, call func(ctx context.Context, c *client.Client, args []string) (any, error)) *cobra.Command {
		return a.apiLeaf(f, use, short, nargs, func(ctx context.Context, c *client.Client, args []string) (any, error) {
			if cloudID == "" {
				return nil, invalidf("--cloud-id is required (or ATLASSIAN_CLOUD_ID)")
			}
			return call(ctx, c, args)
		})
	}

	var createF, editF string
	fields := &cobra.Command{Use: "fields", Short: "Entitlement detail fields", Args: cobra.NoArgs}
	create := leaf("create", "Create a detail field", 0,
		func(ctx context.Context, c *client.Client, _ []string) (any, error) {
			var req client.CreateDetailFieldRequest
			if err := a.readBody(createF, &req); err != nil {
				return nil, err
			}
			v, _, err := c.CSM.CreateDetailField(ctx, cloudID, &req)
			return v, err
		})
	bodyFlag(create, &createF)
	edit := leaf("edit FIELD_NAME", "Rename a detail field or change its options", 1,
		func(ctx context.Context, c *client.Client, args []string) (any, error) {
			var req client.EditDetailFieldRequest
			if err := a.readBody(editF, &req); err != nil {
				return nil, err
			}
			v, _, err := c.CSM.EditDetailField(ctx, cloudID, args[0], &req)
			return v, err
		})
	bodyFlag(edit, &editF)
	fields.AddCommand(
		leaf("list", "List the detail fields", 0,
			func(ctx context.Context, c *client.Client, _ []string) (any, error) {
				v, _, err := c.CSM.ListDetailFields(ctx, cloudID)
				return v, err
			}),
		create, edit,
		leaf("delete FIELD_NAME", "Delete a detail field", 1,
			func(ctx context.Context, c *client.Client, args []string) (any, error) {
				_, err := c.CSM.DeleteDetailField(ctx, cloudID, args[0])
				return done, err
			}),
	)

	var (
		opts client.CSMEntitlementListOptions
		all  bool
	)
	list := leaf("list", "List entitlements (experimental API)", 0,
		func(ctx context.Context, c *client.Client, _ []string) (any, error) {
			if !all {
				v, _, err := c.CSM.ListEntitlements(ctx, cloudID, &opts)
				return v, err
			}
			es := []client.CSMEntitlement{}
			for e, err := range c.CSM.ListEntitlementsIter(ctx, cloudID, opts) {
				if err != nil {
					return nil, err
				}
				es = append(es, e)
			}
			return es, nil
		})
	lf := list.Flags()
	lf.StringVar(&opts.EntityType, "entity-type", "", "CUSTOMER or ORGANIZATION")
	lf.StringVar(&opts.EntityID, "entity-id", "", "the customer or organization id")
	lf.StringVar(&opts.ProductID, "product-id", "", "only entitlements of this product")
	lf.IntVar(&opts.Start, "start", 0, "index of the first result")
	lf.IntVar(&opts.Limit, "limit", 0, "results per page")
	lf.BoolVar(&all, "all", false, "follow every page and print a JSON array")
	_ = list.MarkFlagRequired("entity-type")
	_ = list.MarkFlagRequired("entity-id")

	ents := &cobra.Command{Use: "entitlements", Short: "Entitlements of customers and organizations", Args: cobra.NoArgs}
	ents.AddCommand(list,
		leaf("get ENTITLEMENT_ID", "Show an entitlement with its details", 1,
			func(ctx context.Context, c *client.Client, args []string) (any, error) {
				v, _, err := c.CSM.GetEntitlement(ctx, cloudID, args[0])
				return v, err
			}),
		leaf("delete ENTITLEMENT_ID", "Delete an entitlement", 1,
			func(ctx context.Context, c *client.Client, args []string) (any, error) {
				_, err := c.CSM.DeleteEntitlement(ctx, cloudID, args[0])
				return done, err
			}),
	)
	set := a.apiLeaf(f, "set ENTITLEMENT_ID FIELD_NAME VALUE...", "Set the values of one detail of an entitlement", 0,
		func(ctx context.Context, c *client.Client, args []string) (any, error) {
			if cloudID == "" {
				return nil, invalidf("--cloud-id is required (or ATLASSIAN_CLOUD_ID)")
			}
			v, _, err := c.CSM.SetEntitlementDetail(ctx, cloudID, args[0], args[1], args[2:])
			return v, err
		})
	set.Args = cobra.MinimumNArgs(3)
	ents.AddCommand(set)

	cmd.AddCommand(fields, ents)
	return cmd
}
