// Public surface of @trellis/waypoint. Not implemented yet.
export const implemented = false;
