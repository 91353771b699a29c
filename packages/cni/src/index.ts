// Public surface of @trellis/cni. Not implemented yet.
export const implemented = false;
