"""What a change to the site does to each region's rendered files, before it is deployed."""
