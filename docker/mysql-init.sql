-- The gateway creates one database per frontend (aipack_style, aipack_logo, ...).
GRANT ALL PRIVILEGES ON `aipack\_%`.* TO 'aipack'@'%';
FLUSH PRIVILEGES;
