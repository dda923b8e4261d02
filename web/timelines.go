package web

import "github.com/gin-gonic/gin"

func (s *Server) mountTimelines(r *gin.RouterGroup) {}
