package main

import "github.com/spf13/cobra"

func (a *app) apiCSMCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{Use: "csm", Short: "JSM customer service management: entitlement detail fields and entitlements", Args: cobra.NoArgs}
}
