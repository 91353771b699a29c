// Public surface of @trellis/api. Not implemented yet.
export const implemented = false;
